import HTTPTypes
import ShopfloorTransport

/// `POST /v1/echo` and `GET /v1/echo/ws`, served only with `--enable-echo`: the body or every
/// WebSocket message back as sent (after `delay_ms` for HTTP), so conformance and lifecycle tests
/// exercise the transport through real routes.
struct EchoRoutes {
    static let maxDelay = 10_000
    /// Autobahn|Testsuite sends messages of up to 16 MiB; the echo endpoint takes them all. Clients
    /// may keep their compression context here, so that side of RFC 7692 is exercised too.
    static func webSocketOptions(pingInterval: Duration) -> WebSocketOptions {
        WebSocketOptions(maxMessageSize: 16 * 1024 * 1024 + 1024, requireClientNoContextTakeover: false, pingInterval: pingInterval,
                         maxQueuedBytes: 64 * 1024 * 1024)
    }

    let pingInterval: Duration

    func register(on router: inout Router) {
        let options = Self.webSocketOptions(pingInterval: pingInterval)
        router.on(.get, "/v1/echo/ws") { request, _ in
            try WebSocketHandshake.upgrade(request, options: options) { _ in EchoHandler() }
        }
        router.on(.post, "/v1/echo") { request, _ in
            if let raw = QueryParameters(request.query)["delay_ms"] {
                guard let delay = Int(raw), (0...Self.maxDelay).contains(delay) else {
                    throw APIError.invalidRequest(detail: "delay_ms must be an integer from 0 to \(Self.maxDelay).")
                }
                try await Task.sleep(for: .milliseconds(delay))
            }
            let type = request.head.headerFields[.contentType] ?? "application/octet-stream"
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: type], body: .bytes(request.body))
        }
    }
}

/// Sends every message straight back, on the connection's own loop.
private final class EchoHandler: WebSocketHandler {
    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage) {
        socket.send(message)
    }

    func webSocketDidClose(_ socket: WebSocket) {}
}
