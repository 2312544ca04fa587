import Synchronization

/// A fast `Encoder` that writes compact JSON bytes directly, with `snake_case` keys.
///
/// Foundation's `JSONEncoder` builds a tree of boxed values and converts every key on every call; this
/// writes as it goes and caches key conversions, which makes a product response several times
/// cheaper. Keys come out in declaration order (synthesised `Codable` order), which is stable.
/// Optionals left out with `encodeIfPresent` are omitted; `nil` encoded explicitly is `null`.
struct JSONWriter {
    /// Encodes `value` as compact JSON.
    static func encode<T: Encodable>(_ value: T, capacity: Int) throws -> [UInt8] {
        if let direct = value as? any DirectJSONEncodable { return try encode(direct: direct, capacity: capacity) }
        let state = WriterState(capacity: capacity)
        try state.encodeValue(value)
        return state.output
    }

    static func encode(direct value: any DirectJSONEncodable, capacity: Int) throws -> [UInt8] {
        let state = WriterState(capacity: capacity)
        var object = JSONObjectWriter(state)
        try value.writeJSON(into: &object)
        object.close()
        return state.output
    }
}

/// A type that writes its JSON object by hand when it is the whole body, skipping `Encoder`'s boxed
/// containers: for the few bodies on the hottest paths (a cart, answered on every cart write). It
/// must write exactly what its `Encodable` conformance writes; a test holds each such type to that.
public protocol DirectJSONEncodable: Encodable {
    func writeJSON(into object: inout JSONObjectWriter) throws
}

/// Writes the members of one JSON object, with keys given as they appear (already `snake_case`).
///
/// The writers' members are inlinable because the hand-written bodies live in other modules (the API's
/// cart): called across the module boundary, a generic member (`value`, `array`) would run unspecialised
/// and look up its types' metadata at run time, on every cart write.
public struct JSONObjectWriter {
    @usableFromInline let state: WriterState
    @usableFromInline var empty = true

    @usableFromInline init(_ state: WriterState) {
        self.state = state
        state.output.append(UInt8(ascii: "{"))
    }

    @usableFromInline func close() { state.output.append(UInt8(ascii: "}")) }

    @usableFromInline mutating func key(_ name: String) {
        if !empty { state.output.append(UInt8(ascii: ",")) }
        empty = false
        state.writeString(name)
        state.output.append(UInt8(ascii: ":"))
    }

    @inlinable public mutating func string(_ name: String, _ value: String) {
        key(name)
        state.writeString(value)
    }

    /// Left out when `nil`, as `encodeIfPresent` does.
    @inlinable public mutating func string(_ name: String, ifPresent value: String?) {
        if let value { string(name, value) }
    }

    @inlinable public mutating func integer(_ name: String, _ value: Int64) {
        key(name)
        state.writeInteger(value)
    }

    /// Written as `null` when `nil`, as the API's `@Nullable` members are.
    @inlinable public mutating func string(_ name: String, orNull value: String?) {
        key(name)
        if let value { state.writeString(value) } else { state.output.append(contentsOf: "null".utf8) }
    }

    /// `null`, for a member whose value is absent but shown.
    @inlinable public mutating func null(_ name: String) {
        key(name)
        state.output.append(contentsOf: "null".utf8)
    }

    @inlinable public mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        state.output.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// A finite number, or `null` when `nil`.
    @inlinable public mutating func double(_ name: String, orNull value: Double?) throws {
        key(name)
        if let value { try state.writeDouble(value) } else { state.output.append(contentsOf: "null".utf8) }
    }

    /// Any other value, through the `Encoder`.
    @inlinable public mutating func value<T: Encodable>(_ name: String, ifPresent value: T?) throws {
        guard let value else { return }
        key(name)
        try state.encodeValue(value)
    }

    @inlinable public mutating func object(_ name: String, _ body: (inout JSONObjectWriter) throws -> Void) rethrows {
        key(name)
        var nested = JSONObjectWriter(state)
        try body(&nested)
        nested.close()
    }

    /// An array of what `element` writes for each item, through the ``JSONArrayWriter`` it is given.
    @inlinable public mutating func array<Items: Sequence>(_ name: String, _ items: Items, _ element: (Items.Element, inout JSONArrayWriter) throws -> Void) rethrows {
        key(name)
        state.output.append(UInt8(ascii: "["))
        var array = JSONArrayWriter(state: state)
        for item in items { try element(item, &array) }
        state.output.append(UInt8(ascii: "]"))
    }
}

/// Writes the elements of one JSON array for a ``JSONObjectWriter``.
public struct JSONArrayWriter {
    @usableFromInline let state: WriterState
    @usableFromInline var empty = true

    @usableFromInline init(state: WriterState) { self.state = state }

    @usableFromInline mutating func separate() {
        if !empty { state.output.append(UInt8(ascii: ",")) }
        empty = false
    }

    @inlinable public mutating func string(_ value: String) {
        separate()
        state.writeString(value)
    }

    /// An object written by a type that writes itself.
    @inlinable public mutating func object(_ value: some DirectJSONEncodable) throws {
        try object { try value.writeJSON(into: &$0) }
    }

    @inlinable public mutating func object(_ body: (inout JSONObjectWriter) throws -> Void) rethrows {
        separate()
        var object = JSONObjectWriter(state)
        try body(&object)
        object.close()
    }
}

/// The output and the open containers, shared by every container of one encoding.
@usableFromInline final class WriterState {
    @usableFromInline var output: [UInt8] = []
    /// For each open container: whether it has an element yet (to place commas), and its closing byte.
    var stack: [(hasElement: Bool, close: UInt8)] = []

    init(capacity: Int) { output.reserveCapacity(capacity) }

    /// Encodes a nested value, closing whatever containers it opened once it returns.
    @usableFromInline func encodeValue<T: Encodable>(_ value: T) throws {
        // The common leaves by exact type first: comparing metadata is far cheaper than the dynamic
        // casts below, which every struct would otherwise pay for on its way to `default`. Each bit
        // cast follows a check that `T` is that very type.
        if T.self == String.self { return writeString(unsafeBitCast(value, to: String.self)) }
        if T.self == Int.self { return writeInteger(Int64(unsafeBitCast(value, to: Int.self))) }
        if T.self == Int64.self { return writeInteger(unsafeBitCast(value, to: Int64.self)) }
        if T.self == Bool.self { return output.append(contentsOf: (unsafeBitCast(value, to: Bool.self) ? "true" : "false").utf8) }
        switch value {
        case let number as Double: try writeDouble(number)
        case let number as Float: try writeDouble(Double(number))
        case let number as any BinaryInteger: output.append(contentsOf: "\(number)".utf8)
        case let value as JSONValue: try writeVerbatim(value)
        case let direct as any DirectJSONEncodable:
            // A type that writes itself does so nested too (a page of customers, a lookup's carts).
            var object = JSONObjectWriter(self)
            try direct.writeJSON(into: &object)
            object.close()
        case let dictionary as [String: any Encodable]:
            // Dictionary keys are data, not property names: written as they are, sorted for stable output.
            output.append(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key)
                output.append(UInt8(ascii: ":"))
                try encodeValue(dictionary[key]!)
            }
            output.append(UInt8(ascii: "}"))
        default:
            let depth = stack.count
            try value.encode(to: ValueEncoder(state: self, depth: depth))
            while stack.count > depth { output.append(stack.removeLast().close) }
        }
    }

    /// Free JSON, with object keys as the client sent them (no snake_case conversion).
    func writeVerbatim(_ value: JSONValue) throws {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .integer(let integer): output.append(contentsOf: String(integer).utf8)
        case .double(let double): try writeDouble(double)
        case .string(let string): writeString(string)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try writeVerbatim(item)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members, let order):
            output.append(UInt8(ascii: "{"))
            for (index, key) in order.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key)
                output.append(UInt8(ascii: ":"))
                try writeVerbatim(members[key] ?? .null)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    func open(_ byte: UInt8, close: UInt8) {
        output.append(byte)
        stack.append((false, close))
    }

    /// Writes a comma unless this is the container's first element.
    func separate(depth: Int) {
        if stack[depth].hasElement { output.append(UInt8(ascii: ",")) } else { stack[depth].hasElement = true }
    }

    func writeKey(_ key: String, depth: Int) {
        separate(depth: depth)
        output.append(contentsOf: KeyCache.encodedKey(key))
    }

    /// Decimal digits without going through `String`.
    @usableFromInline func writeInteger(_ value: Int64) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            output.append(contentsOf: buffer[index...])
        }
    }

    @usableFromInline func writeString(_ text: String) {
        var text = text
        // Most strings need no escaping: copy them whole, quotes included, in one go.
        let plain = text.withUTF8 { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: bytes)
            output.append(UInt8(ascii: "\""))
            return true
        }
        if plain { return }
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    @usableFromInline func writeDouble(_ value: Double) throws {
        guard value.isFinite else { throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "JSON has no NaN or infinity")) }
        output.append(contentsOf: "\(value)".utf8)
    }
}

/// `camelCase` → `snake_case` keys, remembered encoded (a handful of distinct keys recur forever).
enum KeyCache {
    private static let encoded = Mutex<[String: [UInt8]]>([:])

    /// `"snake_key":` as bytes, ready to append.
    static func encodedKey(_ key: String) -> [UInt8] {
        if let cached = encoded.withLock({ $0[key] }) { return cached }
        let state = WriterState(capacity: key.utf8.count + 8)
        state.writeString(snakeCase(key))
        state.output.append(UInt8(ascii: ":"))
        // Keys of dictionaries come this way too and are data: remember only so many.
        encoded.withLock { cache in if cache.count < 4096 { cache[key] = state.output } }
        return state.output
    }

    static func snakeCase(_ key: String) -> String {
        // As Foundation's convertToSnakeCase: a run of capitals is one word ("productID" → "product_id",
        // "HTTPServer" → "http_server").
        let characters = Array(key)
        var out = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase && index > 0 {
                let previous = characters[index - 1]
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                if !previous.isUppercase || nextIsLower { out.append("_") }
            }
            out += character.lowercased()
        }
        return out
    }
}

private struct ValueEncoder: Encoder {
    let state: WriterState
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if state.stack.count == depth { state.open(UInt8(ascii: "{"), close: UInt8(ascii: "}")) }
        return KeyedEncodingContainer(KeyedWriter<Key>(state: state, depth: depth))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if state.stack.count == depth { state.open(UInt8(ascii: "["), close: UInt8(ascii: "]")) }
        return UnkeyedWriter(state: state, depth: depth)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleWriter(state: state)
    }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: WriterState
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        state.writeKey(key.stringValue, depth: depth)
        state.output.append(contentsOf: "null".utf8)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        state.writeKey(key.stringValue, depth: depth)
        try state.encodeValue(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        state.writeKey(key.stringValue, depth: depth)
        try state.writeDouble(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        state.writeKey(key.stringValue, depth: depth)
        state.open(UInt8(ascii: "{"), close: UInt8(ascii: "}"))
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(state: state, depth: state.stack.count - 1))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        state.writeKey(key.stringValue, depth: depth)
        state.open(UInt8(ascii: "["), close: UInt8(ascii: "]"))
        return UnkeyedWriter(state: state, depth: state.stack.count - 1)
    }

    mutating func superEncoder() -> any Encoder { ValueEncoder(state: state, depth: state.stack.count) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        state.writeKey(key.stringValue, depth: depth)
        return ValueEncoder(state: state, depth: state.stack.count)
    }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let state: WriterState
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var count = 0

    mutating func encodeNil() throws {
        state.separate(depth: depth)
        state.output.append(contentsOf: "null".utf8)
        count += 1
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        state.separate(depth: depth)
        try state.encodeValue(value)
        count += 1
    }

    mutating func encode(_ value: Double) throws {
        state.separate(depth: depth)
        try state.writeDouble(value)
        count += 1
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        state.separate(depth: depth)
        state.open(UInt8(ascii: "{"), close: UInt8(ascii: "}"))
        count += 1
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(state: state, depth: state.stack.count - 1))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        state.separate(depth: depth)
        state.open(UInt8(ascii: "["), close: UInt8(ascii: "]"))
        count += 1
        return UnkeyedWriter(state: state, depth: state.stack.count - 1)
    }

    mutating func superEncoder() -> any Encoder {
        state.separate(depth: depth)
        count += 1
        return ValueEncoder(state: state, depth: state.stack.count)
    }
}

private struct SingleWriter: SingleValueEncodingContainer {
    let state: WriterState
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { state.output.append(contentsOf: "null".utf8) }
    mutating func encode(_ value: Double) throws { try state.writeDouble(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try state.encodeValue(value) }
}
