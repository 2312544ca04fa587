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

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(bytes))
    }
}
