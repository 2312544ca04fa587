public import HTTPTypes

/// One request for ``HTTPClient/execute(_:)``.
///
/// The client writes `Host`, `Content-Length` and `User-Agent` itself (a caller's `User-Agent` wins);
/// setting `Host`, `Content-Length`, `Transfer-Encoding`, `Expect` or `Upgrade` here is refused, as is
/// any field whose bytes could end the line early (see ``HTTPClientError/invalidRequest(reason:)``).
/// A `Connection: close` field is sent and honoured: the connection is closed after the response.
public struct HTTPClientRequest: Sendable {
    public var method: HTTPRequest.Method
    public var url: HTTPClientURL
    public var headerFields: HTTPFields
    /// Sent with a `Content-Length`, never chunked.
    public var body: [UInt8]
    /// Replaces ``HTTPClientConfiguration/totalTimeout`` for this request.
    public var timeout: Duration?

    public init(
        method: HTTPRequest.Method = .get, url: HTTPClientURL, headerFields: HTTPFields = [:], body: [UInt8] = [],
        timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headerFields = headerFields
        self.body = body
        self.timeout = timeout
    }
}
