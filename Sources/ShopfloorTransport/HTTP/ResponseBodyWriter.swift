/// Writes a streamed response body from a handler's task to its connection.
///
/// Each ``write(_:)`` hands a chunk to the connection's event loop and returns once the connection
/// has room for more: a client that reads slowly makes the writer wait instead of the server buffer.
public struct ResponseBodyWriter: Sendable {
    let route: ConnectionRoute
    let slot: UInt64
    let suppressBody: Bool
    /// Chunked framing (HTTP/1.1); without it the bytes go as they are and the connection's close ends them.
    let chunked: Bool

    /// Sends `bytes` as one chunk. Throws ``ResponseBodyWriter/ConnectionClosed`` once the client is gone.
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty, !suppressBody else { return }
        try await route.send(slot: slot, bytes: chunked ? HTTPResponseEncoder.chunk(bytes) : bytes, finished: false, closing: false)
    }

    /// The client went away; stop producing.
    public struct ConnectionClosed: Error {}
}

/// How a task finds its connection (HTTP or WebSocket) again: the loop that owns it, its descriptor and its unique id
/// (descriptors are reused, ids never are).
struct ConnectionRoute: Sendable {
    let loop: EventLoop
    let fd: Int32
    let id: UInt64

    /// Runs `body` on the connection's loop if the connection still exists.
    func withConnection(_ body: @escaping @Sendable (HTTPConnection) -> Void) {
        loop.execute { [loop, fd, id] in
            if let connection = loop.handler(fd: fd) as? HTTPConnection, connection.id == id {
                body(connection)
            }
        }
    }

    /// Hands bytes of a response to the connection and waits until it can take more.
    func send(slot: UInt64, bytes: [UInt8], finished: Bool, closing: Bool) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            loop.execute { [loop, fd, id] in
                guard let connection = loop.handler(fd: fd) as? HTTPConnection, connection.id == id else {
                    continuation.resume(throwing: ResponseBodyWriter.ConnectionClosed())
                    return
                }
                connection.receive(slot: slot, bytes: bytes, finished: finished, closing: closing, waiter: continuation)
            }
        }
    }
}
