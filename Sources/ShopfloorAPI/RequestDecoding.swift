import Foundation
import HTTPTypes
import ShopfloorCrypto
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

extension HTTPServerRequest {
    /// The body as `T`: it must be `application/json`, pass the strict ``JSONParser`` (400 if not),
    /// then decode from that parsed document, with the API's conventions (422 naming the field if
    /// not): one parse per body.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeWithDocument(type).value
    }

    /// As ``decode(_:)``, also returning the parsed document for members kept verbatim.
    func decodeWithDocument<T: Decodable>(_ type: T.Type) throws -> (value: T, document: JSONValue) {
        let mediaType = Self.mediaType(head.headerFields.value(of: .contentType) ?? "")
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")) else {
            throw APIError.unsupportedMediaType
        }
        let document = try JSONParser.parse(body)
        if let fast = type as? any DocumentDecodable.Type, let value = fast.init(document: document) as? T { return (value, document) }
        do {
            return (try JSONCoding.decode(type, from: document), document)
        } catch let error as DecodingError {
            // A number that does not fit an integer field is reported without its path, as Foundation
            // does; the parsed document still knows where the first such number is.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty, let path = document.firstFractionalOrHugeNumber() {
                throw ValidationError(field: path, detail: "must be a whole number in range")
            }
            throw error
        }
    }

    /// The type and subtype of a `Content-Type` value, lowercased, without parameters or the
    /// whitespace around them (RFC 9110 §8.3.1).
    static func mediaType(_ value: String) -> String {
        let isBlank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        // Already bare and lower-case, as clients nearly always send it: the value itself, no copy.
        let plain = !value.utf8.contains { $0 == UInt8(ascii: ";") || isBlank($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        if plain { return value }
        var bytes = Array(value.utf8.prefix { $0 != UInt8(ascii: ";") })
        while let last = bytes.last, isBlank(last) { bytes.removeLast() }
        let start = bytes.firstIndex { !isBlank($0) } ?? bytes.endIndex
        return String(decoding: bytes[start...].lazy.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    var queryParameters: QueryParameters { QueryParameters(query) }

    /// `?limit=` within 1...200 (default 50), else 400.
    func limit() throws(APIError) -> Int {
        guard let raw = queryParameters["limit"] else { return 50 }
        guard let limit = Int(raw), (1...200).contains(limit) else {
            throw .invalidRequest(detail: "limit must be a whole number from 1 to 200.")
        }
        return limit
    }

    /// The idempotency key sent by the client, if any (1 to 200 visible characters).
    func idempotencyKey() throws(APIError) -> String? {
        guard let key = head.headerFields.value(of: HTTPField.Name("Idempotency-Key")!) else { return nil }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidRequest(detail: "Idempotency-Key must be 1 to 200 visible ASCII characters.")
        }
        return key
    }

    /// The request as ``Idempotency`` knows it, if it carries an idempotency key: the key, and a
    /// fingerprint of what is asked (SHA-256 of method, path and body), so the same key sent with
    /// another request is refused.
    func idempotentRequest() throws(APIError) -> IdempotentRequest? {
        guard let key = try idempotencyKey() else { return nil }
        let asked = Array("\(head.method.rawValue) \(path)\n".utf8) + body
        return IdempotentRequest(key: key, fingerprint: Digest.sha256(asked))
    }
}

/// A body that can be read straight from the parsed document when it is plainly well formed, without
/// a second parse by `JSONDecoder`: for the bodies of every cart write. `init(document:)` returns
/// `nil` for anything else, which then goes through `JSONDecoder` so that errors name their fields
/// exactly as for every other body; what it accepts it must read as `JSONDecoder` would.
protocol DocumentDecodable {
    init?(document: JSONValue)
}

extension RequestContext {
    /// A path parameter that the route pattern guarantees.
    func parameter(_ name: String) throws(APIError) -> String {
        guard let value = parameters[name] else { throw .invalidRequest(detail: "Missing path parameter \(name).") }
        return value
    }
}

extension JSONValue {
    /// The path (`variants[0].price.amount`) of the first number that is not a 64-bit integer.
    func firstFractionalOrHugeNumber(path: String = "") -> String? {
        switch self {
        case .double: return path
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = item.firstFractionalOrHugeNumber(path: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members, let order):
            for key in order {
                if let found = members[key]?.firstFractionalOrHugeNumber(path: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        default: return nil
        }
    }
}

extension HTTPFields {
    /// `self[name]`, without the new string it builds for a field that is there: the value of the one
    /// field of that name as it is (the fields' values joined, as `self[name]` does, if there are more).
    /// What the API reads of a request's fields, it reads this way.
    func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }
            found = field.value
        }
        return found
    }
}

extension JSONValue {
    /// Whether this is an object whose member `name` is present and `null`: in a `PATCH`, the member
    /// is to be cleared, where an absent one is left as it is.
    func hasNullMember(_ name: String) -> Bool {
        guard case .object(let members, order: _) = self, case .null? = members[name] else { return false }
        return true
    }
}
