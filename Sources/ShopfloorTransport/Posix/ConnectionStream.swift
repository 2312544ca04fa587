/// The byte pipe under a connection: a non-blocking socket, with TLS on top when the server has it.
///
/// HTTP and WebSocket connections read and write through this, so a connection that upgrades keeps
/// its socket and TLS session as they are.
struct ConnectionStream {
    enum ReadResult {
        case bytes(Int)
        case wouldBlock
        case endOfStream
    }

    let socket: Socket
    var tls: TLSConnection?

    /// Whether TLS holds decrypted bytes that `epoll` will not report, so the caller must read again.
    var hasBufferedInput: Bool { tls?.hasBufferedInput == true }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> ReadResult {
        if let tls {
            switch try tls.read(into: buffer) {
            case .done(let count): return .bytes(count)
            case .wantRead, .wantWrite: return .wouldBlock
            case .closed: return .endOfStream
            }
        }
        switch try socket.read(into: buffer) {
        case .processed(let count): return count == 0 ? .endOfStream : .bytes(count)
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Writes what the socket takes now; `nil` when it would block.
    func write(_ bytes: UnsafeRawBufferPointer) throws -> Int? {
        if let tls {
            switch try tls.write(bytes) {
            case .done(let count): return count
            case .wantRead, .wantWrite: return nil
            case .closed: throw ResponseBodyWriter.ConnectionClosed()
            }
        }
        switch try socket.write(bytes) {
        case .processed(let count): return count
        case .wouldBlock: return nil
        }
    }

    /// Sends TLS close_notify if any, then shuts the write side.
    func shutdownWrite() {
        tls?.shutdown()
        socket.shutdownWrite()
    }
}
