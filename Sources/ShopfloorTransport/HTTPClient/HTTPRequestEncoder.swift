import HTTPTypes

/// Writes a client request as HTTP/1.1 bytes (RFC 9112 §3, §5, §6): request line, `Host`, the
/// caller's fields, `Content-Length`, the body, all in one buffer so it leaves in one write.
///
/// ```
/// POST /hook?x=1 HTTP/1.1
/// Host: example.com:8443
/// User-Agent: shopfloor
/// Content-Type: application/json
/// Content-Length: 17
///
/// {"event":"paid"}
/// ```
///
/// Nothing the caller gives can add a line: the target comes from ``HTTPClientURL``, which admits no
/// space or control byte; each field's name must be a token and its value free of control bytes other
/// than HTAB. swift-http-types already refuses or blanks such bytes when fields are made, but a value
/// can also arrive through `Codable` unchecked, so they are checked again here, where it matters.
enum HTTPRequestEncoder {
    /// Fields whose values the client decides: the framing and the connection's protocol are its own.
    private static let reservedFields: [HTTPField.Name] = [HTTPField.Name("Host")!, .contentLength, .transferEncoding, .expect, .upgrade]

    /// Methods whose requests mean something with content, so an empty body still gets
    /// `Content-Length: 0` (RFC 9110 §8.6), which some servers demand before they answer.
    private static let methodsWithContent: [HTTPRequest.Method] = [.post, .put, .patch]

    static func encode(_ request: HTTPClientRequest) throws(HTTPClientError) -> [UInt8] {
        guard request.method != .connect else { throw .invalidRequest(reason: "CONNECT opens a tunnel, which this client does not") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + request.body.count)
        append(request.method.rawValue, " ", request.url.pathAndQuery, " HTTP/1.1\r\nHost: ", request.url.authority, "\r\n", to: &bytes)
        if request.headerFields[.userAgent] == nil { append("User-Agent: shopfloor\r\n", to: &bytes) }
        for field in request.headerFields {
            guard !reservedFields.contains(field.name) else {
                throw .invalidRequest(reason: "\(field.name.canonicalName) is written by the client")
            }
            guard !field.name.rawName.isEmpty, field.name.rawName.utf8.allSatisfy(\.isTokenCharacter) else {
                throw .invalidRequest(reason: "a field name is not a token")
            }
            let isValid = field.withUnsafeBytesOfValue { value in
                value.allSatisfy { $0 == .tab || ($0 >= 0x20 && $0 != 0x7F) }
            }
            guard isValid else { throw .invalidRequest(reason: "the value of \(field.name.canonicalName) holds a control character") }
            append(field.name.rawName, ": ", to: &bytes)
            field.withUnsafeBytesOfValue { bytes.append(contentsOf: $0) }
            append("\r\n", to: &bytes)
        }
        if !request.body.isEmpty || methodsWithContent.contains(request.method) {
            append("Content-Length: ", String(request.body.count), "\r\n", to: &bytes)
        }
        append("\r\n", to: &bytes)
        bytes.append(contentsOf: request.body)
        return bytes
    }

    private static func append(_ parts: String..., to bytes: inout [UInt8]) {
        for part in parts { bytes.append(contentsOf: part.utf8) }
    }
}
