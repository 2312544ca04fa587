import Foundation

/// The JSON conventions of stored payloads and the API (API.md): `snake_case` keys in declaration
/// order.
public enum JSONCoding {
    /// `capacity` is the room reserved up front: enough for most of what is encoded this way.
    public static func encode<T: Encodable>(_ value: T, capacity: Int = 1024) throws -> [UInt8] {
        try JSONWriter.encode(value, capacity: capacity)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(bytes))
    }
}
