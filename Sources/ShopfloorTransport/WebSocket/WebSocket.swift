/// What the application does with a connection's messages. Created when the connection upgrades and
/// called on its event loop thread only: it must return quickly and hand longer work to a task.
public protocol WebSocketHandler: AnyObject {
    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage)
    /// The connection has closed (either side, or failed); nothing sent from now on arrives.
    func webSocketDidClose(_ socket: WebSocket)
}

/// A handle on one WebSocket connection, usable from any thread or task.
///
/// Sends are queued on the connection's event loop in call order. A peer that lets more than the
/// endpoint's queue limit pile up unsent is closed with 1008, so one slow reader never holds memory
/// or delays anyone else; ``sendWhenReady(_:)`` waits instead, for senders that can.
public final class WebSocket: Sendable, Hashable {
    let route: ConnectionRoute

    init(route: ConnectionRoute) {
        self.route = route
    }

    /// Unique for the life of the server.
    public var id: UInt64 { route.id }

    public func send(_ message: WebSocketMessage) {
        send(OutboundWebSocketMessage(message))
    }

    public func send(_ message: OutboundWebSocketMessage) {
        withConnection { $0.enqueue(message) }
    }

    /// Queues `message` once the connection has room, waiting while its queue holds more than
    /// 256 KiB (or half its limits). Throws once the connection is closed.
    public func sendWhenReady(_ message: OutboundWebSocketMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            withConnection(orElse: { continuation.resume(throwing: ResponseBodyWriter.ConnectionClosed()) }) {
                $0.enqueue(message, waiter: continuation)
            }
        }
    }

    /// Starts the close handshake with `code`; the connection closes once the peer answers or a
    /// short grace period passes.
    public func close(code: WebSocketCloseCode = .normal, reason: String = "") {
        withConnection { $0.close(code: code, reason: reason) }
    }

    /// Closes with 1008 "too far behind" at once: what is queued and not begun is dropped, so the
    /// close frame goes next, and senders waiting in ``sendWhenReady(_:)`` are stopped.
    public func closeTooFarBehind() {
        withConnection { $0.tooFarBehind() }
    }

    /// Sends one message to many connections with one hop to each event loop involved.
    public static func broadcast(_ message: OutboundWebSocketMessage, to sockets: some Sequence<WebSocket>) {
        var byLoop: [ObjectIdentifier: (loop: EventLoop, sockets: [WebSocket])] = [:]
        for socket in sockets {
            byLoop[ObjectIdentifier(socket.route.loop), default: (socket.route.loop, [])].sockets.append(socket)
        }
        for (loop, group) in byLoop.values {
            loop.execute {
                var frames: [Int32: [UInt8]] = [:]
                for socket in group { socket.connectionOnLoop()?.enqueue(message, frames: &frames) }
            }
        }
    }

    private func withConnection(orElse missing: @escaping @Sendable () -> Void = {}, _ body: @escaping @Sendable (WebSocketConnection) -> Void) {
        if route.loop.inLoop {
            if let connection = connectionOnLoop() { body(connection) } else { missing() }
            return
        }
        route.loop.execute { [self] in
            if let connection = connectionOnLoop() { body(connection) } else { missing() }
        }
    }

    private func connectionOnLoop() -> WebSocketConnection? {
        guard let connection = route.loop.handler(fd: route.fd) as? WebSocketConnection, connection.id == route.id else { return nil }
        return connection
    }

    public static func == (lhs: WebSocket, rhs: WebSocket) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
