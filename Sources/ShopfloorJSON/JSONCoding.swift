import Foundation

/// The JSON conventions of stored payloads and the API (API.md): `snake_case` keys in declaration
/// order.
public enum JSONCoding {
    /// `capacity` is the room reserved up front: enough for most of what is encoded this way. The
    /// default keeps the buffer (with its 32-byte header) within glibc's per-thread cache, which takes
    /// requests up to 1,032 bytes: a larger one is a large-bin request, and each of those first
    /// consolidates the arena's fast bins (2 % of the executor's CPU on the cart loop at 1,024).
    public static func encode<T: Encodable>(_ value: T, capacity: Int = 992) throws -> [UInt8] {
        try JSONWriter.encode(value, capacity: capacity)
    }

    /// Encodes a body written by hand. Not generic: a caller in another module whose value is known
    /// to be ``DirectJSONEncodable`` calls this rather than ``encode(_:capacity:)``, whose
    /// unspecialised body would look the conformance up at run time on every call (the writer encodes
    /// an event payload this way for every cart write; the API, every cart body).
    public static func encode(direct value: any DirectJSONEncodable, capacity: Int = 992) throws -> [UInt8] {
        try JSONWriter.encode(direct: value, capacity: capacity)
    }

    /// A Swift property name as its JSON key (`customerID` → `customer_id`), as the writer spells it:
    /// for naming a field in an error.
    public static func snakeCase(_ name: String) -> String {
        KeyCache.snakeCase(name)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in CamelKey(snakeCase: path.last!.stringValue) }
        return try decoder.decode(type, from: Data(bytes))
    }

    /// A `snake_case` key as the Swift property it names: words after the first capitalised, and `id`
    /// as `ID` (`customer_id` → `customerID`), the one spelling of identifiers in Swift, which the
    /// writer turns back into `customer_id`. Keys with no underscore are left as they are. Both
    /// decoders match keys through this, so they agree on every name.
    static func camelCase(_ key: String) -> String {
        guard key.utf8.contains(UInt8(ascii: "_")) else { return key }
        var words = key.split(separator: "_", omittingEmptySubsequences: false)
        let first = words.removeFirst()
        return words.reduce(String(first)) { camel, word in
            camel + (word == "id" ? "ID" : word.prefix(1).uppercased() + word.dropFirst())
        }
    }
}

/// A member key as `JSONDecoder` matches it: the property name ``JSONCoding/camelCase(_:)`` gives.
private struct CamelKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(snakeCase key: String) { stringValue = JSONCoding.camelCase(key) }

    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
