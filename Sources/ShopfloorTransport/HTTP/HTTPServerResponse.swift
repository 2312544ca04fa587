public import HTTPTypes

/// A response: status, fields and a body that is either complete or streamed.
///
/// The transport adds `Date`, `Server`, `Content-Length` or `Transfer-Encoding: chunked`, and
/// `Connection`; handlers set everything else.
public struct HTTPServerResponse: Sendable {
    public enum Body: Sendable {
        /// A complete body, sent with `Content-Length` and gzip-compressed when the client allows.
        case bytes([UInt8])
        /// A body produced over time, sent with chunked transfer coding. The closure's writes suspend
        /// while the client is slow to read, so a stream never buffers without bound.
        case stream(@Sendable (ResponseBodyWriter) async throws -> Void)
        /// `101 Switching Protocols`: once sent, the connection speaks WebSocket (see ``WebSocketHandshake``).
        case webSocket(WebSocketUpgrade)
    }

    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: Body

    public init(status: HTTPResponse.Status, headerFields: HTTPFields = [:], body: Body = .bytes([])) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }
}

/// The application above the transport: turns requests into responses.
///
/// `respond(to:)` runs in Swift concurrency, off the event loops; `errorResponse(for:)` is called on a
/// loop for input that never became a request and must be quick.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPServerRequest) async -> HTTPServerResponse
    func errorResponse(for error: HTTPTransportError) -> HTTPServerResponse
}
