public import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
public import ShopfloorTransport

/// The API's JSON conventions (API.md): `snake_case` keys, RFC 3339 UTC times (stored as text).
public enum JSON {
    /// Encodes `value` with the API's conventions.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        // Known at specialisation: a body written by hand (a cart) skips the generic encoder's run-time lookup.
        if let direct = value as? any DirectJSONEncodable { return try JSONCoding.encode(direct: direct) }
        return try JSONCoding.encode(value)
    }

    /// A JSON response with `value` as its body. Not inlined, so that route handlers' async frames do
    /// not hold the encoding's temporaries (``Middleware``).
    @inline(never)
    public static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> HTTPServerResponse {
        HTTPServerResponse(status: status, headerFields: [.contentType: "application/json"], body: .bytes(try encode(value)))
    }
}
