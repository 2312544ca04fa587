import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

extension HTTPServerRequest {
    /// The body as `T`: it must be `application/json`, pass the strict ``JSONParser`` (400 if not),
    /// then decode with the API's conventions (422 naming the field if not).
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeWithDocument(type).value
    }

    /// As ``decode(_:)``, also returning the parsed document for members kept verbatim.
    func decodeWithDocument<T: Decodable>(_ type: T.Type) throws -> (value: T, document: JSONValue) {
        let contentType = head.headerFields[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") || contentType.contains("+json") else { throw APIError.unsupportedMediaType }
        let document = try JSONParser.parse(body)
        return (try JSONCoding.decode(type, from: body), document)
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
        guard let key = head.headerFields[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidRequest(detail: "Idempotency-Key must be 1 to 200 visible ASCII characters.")
        }
        return key
    }
}

extension RequestContext {
    /// A path parameter that the route pattern guarantees.
    func parameter(_ name: String) throws(APIError) -> String {
        guard let value = parameters[name] else { throw .invalidRequest(detail: "Missing path parameter \(name).") }
        return value
    }
}
