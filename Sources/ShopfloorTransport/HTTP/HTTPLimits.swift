/// Hard limits on what a client may send and how long it may take, enforced by the transport
/// before any handler runs, so that no request can make the server buffer or wait without bound.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line (method, target, version); longer is 414 (RFC 9112 §3).
    public var maxRequestLineLength = 8 * 1024
    /// Most bytes of header section after the request line, trailers included; more is 431.
    public var maxHeaderBytes = 64 * 1024
    /// Most header fields in one request; more is 431.
    public var maxHeaderCount = 100
    /// Largest request body, whether framed by `Content-Length` or chunked; larger is 413.
    public var maxBodySize = 1024 * 1024
    /// Longest chunk-size line including extensions (RFC 9112 §7.1.1).
    public var maxChunkLineLength = 4 * 1024
    /// Requests parsed ahead while earlier responses are still pending (pipelining depth).
    public var maxPipelinedRequests = 16
    /// Time from the first byte of a request (or the TLS handshake) to the end of its header section.
    public var headerTimeout: Duration = .seconds(10)
    /// Time allowed to receive a whole body once the header section is in.
    public var bodyTimeout: Duration = .seconds(30)
    /// How long a keep-alive connection may sit idle, and how long a peer may leave output unread.
    public var idleTimeout: Duration = .seconds(60)
    /// Outbound bytes buffered for one connection before the server stops reading from it.
    public var outboundHighWater = 256 * 1024

    public init() {}
}

extension Duration {
    var milliseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1000 + UInt64(max(0, attoseconds)) / 1_000_000_000_000_000
    }
}
