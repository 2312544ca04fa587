#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The listening socket, on the first loop: accepts connections and spreads them round-robin over
/// every loop, refusing politely once the server holds its maximum.
final class HTTPListener: EventLoopHandler {
    private let socket: Socket
    private let loop: EventLoop
    private let loops: [EventLoop]
    private let context: ServerContext
    private var nextLoop = 0
    private var isOpen = true
    private let refusal: [UInt8]
    private let addressRefusal: [UInt8]

    init(socket: Socket, loop: EventLoop, loops: [EventLoop], context: ServerContext) {
        self.socket = socket
        self.loop = loop
        self.loops = loops
        self.context = context
        refusal = Self.encoded(context.responder.errorResponse(for: .tooManyConnections))
        addressRefusal = Self.encoded(context.responder.errorResponse(for: .tooManyConnectionsFromAddress))
    }

    private static func encoded(_ response: HTTPServerResponse) -> [UInt8] {
        let body: [UInt8] = if case .bytes(let bytes) = response.body { bytes } else { [] }
        return HTTPResponseEncoder.encode(response, body: body, context: .init(keepAlive: false), closing: true)
    }

    func register() throws(SystemError) {
        try loop.register(self, fd: socket.fd, events: Epoll.readable)
    }

    func handle(events: UInt32) {
        for _ in 0..<128 {
            let accepted: (socket: Socket, peer: IPAddress?)?
            do {
                accepted = try socket.accept()
            } catch {
                // EMFILE and friends: leave the rest queued and try again on the next wake-up.
                context.logger.warning("accept failed: \(error)")
                return
            }
            guard let (client, peer) = accepted else { return }
            let id: UInt64
            switch context.connectionOpened(from: peer) {
            case .admitted(let admitted):
                id = admitted
            case .serverFull:
                refuse(client, with: refusal)
                continue
            case .addressFull:
                refuse(client, with: addressRefusal)
                continue
            }
            let target = loops[nextLoop]
            nextLoop = (nextLoop + 1) % loops.count
            let context = context
            target.execute {
                do {
                    let connection = try HTTPConnection(id: id, socket: client, peer: peer, loop: target, context: context)
                    try connection.register()
                } catch {
                    context.logger.warning("could not set up connection: \(error)")
                    client.close()
                    context.connectionClosed(from: peer)
                }
            }
        }
    }

    /// Answers a connection there is no place for and closes it, without reading its request.
    private func refuse(_ client: Socket, with answer: [UInt8]) {
        answer.withUnsafeBytes { _ = try? client.write($0) }
        client.close()
    }

    func tick(now: UInt64) {}

    /// Nothing to finish: ``HTTPServer/drain()`` closes the listener itself.
    func drain() {}

    func forceClose() {
        guard isOpen else { return }
        isOpen = false
        loop.deregister(fd: socket.fd)
        socket.close()
    }
}

@available(*, unavailable)
extension HTTPListener: Sendable {}
