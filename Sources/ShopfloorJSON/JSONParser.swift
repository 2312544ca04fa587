
/// A strict JSON parser (RFC 8259) for request bodies, with hard limits.
///
/// Stricter than Foundation's on purpose: duplicate object keys, invalid UTF-8, lone surrogate
/// escapes, leading zeros, trailing commas and anything after the value are errors, and depth,
/// string length and member count are bounded, so a hostile body costs little and means one thing.
public struct JSONParser {
    /// Bounds on what one document may contain.
    public struct Limits: Sendable {
        public var maxDepth = 32
        public var maxStringBytes = 64 * 1024
        public var maxMembers = 200_000
        /// Characters in one number, sign and exponent included.
        public static let maxNumberLength = 64

        public init() {}
    }

    /// Why a document was refused, with the byte offset where parsing stopped.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Reason: String, Sendable {
            case unexpectedEnd = "unexpected end of input"
            case unexpectedCharacter = "unexpected character"
            case invalidUTF8 = "invalid UTF-8"
            case invalidEscape = "invalid escape sequence"
            case invalidNumber = "invalid number"
            case duplicateKey = "duplicate object key"
            case tooDeep = "nesting too deep"
            case stringTooLong = "string too long"
            case tooManyMembers = "too many members"
            case numberTooLong = "number longer than 64 characters"
            case numberOutOfRange = "number beyond the range of a double"
            case trailingData = "data after the JSON value"
        }

        public let reason: Reason
        public let offset: Int

        public var description: String { "\(reason.rawValue) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private let limits: Limits
    private var index = 0
    private var members = 0

    private init(bytes: [UInt8], limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Parses one complete document.
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: bytes, limits: limits)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw Failure(reason: .trailingData, offset: parser.index) }
        return value
    }

    private func fail(_ reason: Failure.Reason) -> Failure {
        Failure(reason: reason, offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail(.unexpectedCharacter)
        }
    }

    private mutating func parseLiteral(_ word: StaticString, _ value: JSONValue) throws(Failure) -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail(.unexpectedEnd) }
        let matches = word.withUTF8Buffer { expected in bytes[index..<index + count].elementsEqual(expected) }
        guard matches else { throw fail(.unexpectedCharacter) }
        index += count
        return value
    }

    private mutating func countMember() throws(Failure) {
        members += 1
        guard members <= limits.maxMembers else { throw fail(.tooManyMembers) }
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= limits.maxDepth else { throw fail(.tooDeep) }
        index += 1
        var object: [String: JSONValue] = [:]
        var keys: [String] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object, order: keys)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            guard bytes[index] == UInt8(ascii: "\"") else { throw fail(.unexpectedCharacter) }
            let keyOffset = index
            let key = try parseString()
            guard object[key] == nil else { throw Failure(reason: .duplicateKey, offset: keyOffset) }
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            guard bytes[index] == UInt8(ascii: ":") else { throw fail(.unexpectedCharacter) }
            index += 1
            skipWhitespace()
            try countMember()
            object[key] = try parseValue(depth: depth)
            keys.append(key)
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(object, order: keys)
            default: throw fail(.unexpectedCharacter)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= limits.maxDepth else { throw fail(.tooDeep) }
        index += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            try countMember()
            array.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(array)
            default: throw fail(.unexpectedCharacter)
            }
        }
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, bytes[index].isASCIIDigit else { throw fail(.invalidNumber) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, bytes[index].isASCIIDigit { throw fail(.invalidNumber) }
        } else {
            while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, bytes[index].isASCIIDigit else { throw fail(.invalidNumber) }
            while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, bytes[index].isASCIIDigit else { throw fail(.invalidNumber) }
            while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
        }
        guard index - start <= Limits.maxNumberLength else { throw Failure(reason: .numberTooLong, offset: start) }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { throw Failure(reason: .numberOutOfRange, offset: start) }
        return .double(double)
    }

    private mutating func parseString() throws(Failure) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            guard out.count <= limits.maxStringBytes else { throw fail(.stringTooLong) }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape(into: &out)
            case 0x00..<0x20:
                throw fail(.unexpectedCharacter)
            case 0x20..<0x80:
                out.append(byte)
                index += 1
            default:
                try copyUTF8Sequence(into: &out)
            }
        }
    }

    /// Copies one multi-byte UTF-8 sequence after checking it is well-formed (Unicode Table 3-7):
    /// no overlong forms, no surrogates, nothing above U+10FFFF.
    private mutating func copyUTF8Sequence(into out: inout [UInt8]) throws(Failure) {
        let lead = bytes[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw fail(.invalidUTF8)
        }
        guard index + length <= bytes.count else { throw fail(.invalidUTF8) }
        let second = bytes[index + 1]
        guard second >= lower && second <= upper else { throw fail(.invalidUTF8) }
        for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[index + offset]) {
            throw fail(.invalidUTF8)
        }
        out.append(contentsOf: bytes[index..<index + length])
        index += length
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(Failure) {
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): out.append(byte)
        case UInt8(ascii: "\\"): out.append(byte)
        case UInt8(ascii: "/"): out.append(byte)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail(.invalidEscape)
                }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail(.invalidEscape) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail(.invalidEscape)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail(.invalidEscape) }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw fail(.invalidEscape)
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail(.invalidEscape)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}

extension UInt8 {
    fileprivate var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}
