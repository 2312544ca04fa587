public import HTTPTypes

/// A final response (interim 1xx responses are skipped), its body read whole into memory.
///
/// 3xx responses come back as they are: the client follows no redirects, so a webhook is never sent
/// somewhere its owner did not configure.
public struct HTTPClientResponse: Sendable, Equatable {
    /// The three-digit status code, 100–599.
    public var statusCode: Int
    /// The reason phrase as the server sent it; RFC 9112 §4 tells clients to ignore it, so it is here
    /// for logs only.
    public var reasonPhrase: String
    public var headerFields: HTTPFields
    /// The body, with chunked framing removed; at most ``HTTPClientConfiguration/maxResponseBodyBytes``.
    public var body: [UInt8]
    /// Whether the server sent more than ``HTTPClientConfiguration/maxResponseBodyBytes``: ``body`` holds
    /// the first that many bytes, the rest was never read and the connection was closed.
    public var isBodyTruncated: Bool

    public init(statusCode: Int, reasonPhrase: String, headerFields: HTTPFields, body: [UInt8], isBodyTruncated: Bool) {
        self.statusCode = statusCode
        self.reasonPhrase = reasonPhrase
        self.headerFields = headerFields
        self.body = body
        self.isBodyTruncated = isBodyTruncated
    }
}
