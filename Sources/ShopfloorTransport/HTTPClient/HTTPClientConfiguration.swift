/// How an ``HTTPClient`` connects, how long it waits and how much it reads.
///
/// The defaults suit outbound notifications to third parties: small requests, small answers, a peer
/// that may be slow or hostile. Every wait and every buffer is bounded.
public struct HTTPClientConfiguration: Sendable {
    /// Reaching the server, the TLS handshake included.
    public var connectTimeout: Duration = .seconds(5)
    /// How long the peer may make no progress: the longest wait for the next response bytes, and for
    /// the socket to take the whole request.
    public var readTimeout: Duration = .seconds(10)
    /// The whole of one request (connecting, a retry, sending, the response), unless the request sets
    /// its own ``HTTPClientRequest/timeout``.
    public var totalTimeout: Duration = .seconds(30)
    /// The response's status line and fields, and those of any interim 1xx responses before it.
    public var maxResponseHeadBytes = 64 * 1024
    /// Fields in the response head, and in a chunked body's trailers.
    public var maxResponseHeaderCount = 100
    /// Past this the body is cut short (``HTTPClientResponse/isBodyTruncated``) and the connection closed.
    public var maxResponseBodyBytes = 1024 * 1024
    /// Idle keep-alive connections kept per origin (scheme, host, port); the oldest beyond are closed.
    public var maxIdleConnectionsPerOrigin = 8
    /// How long a connection may sit idle before it is closed rather than reused. Kept under the 5 s
    /// after which Node.js servers close idle connections, so that a reused connection has seldom
    /// been closed by the time a request goes out on it.
    public var idleConnectionLifetime: Duration = .seconds(4)
    /// Threads that run requests, which is how many run at once; the rest wait in order.
    public var maxConcurrentRequests = 8
    /// Whom to trust for `https`; `nil` trusts the system's roots.
    public var tlsContext: TLSClientContext?
    /// Which resolved addresses may be connected to. `.publicOnly` unless set: the URLs this client
    /// is for come from outside.
    public var addressPolicy: HTTPClientAddressPolicy = .publicOnly

    public init() {}
}
