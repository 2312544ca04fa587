import Logging
import Synchronization

/// What every connection of one server shares: the responder, limits, TLS, counters and the drain flag.
final class ServerContext: Sendable {
    let responder: any HTTPResponder
    let limits: HTTPLimits
    let tls: TLSContext?
    let logger: Logger
    let maxConnections: Int
    /// Most open connections from one client address (0: no cap), so one client cannot take every
    /// place of ``maxConnections``.
    let maxConnectionsPerAddress: Int
    /// The tasks that run requests.
    let workers = RequestWorkers()
    private let openConnections = Atomic<Int>(0)
    private let nextConnectionID = Atomic<UInt64>(1)
    private let draining = Atomic<Bool>(false)
    private let openWebSockets = Atomic<Int>(0)
    private let slowConsumerCloses = Atomic<Int>(0)
    /// Open connections by client address, kept only while a per-address cap is set; an address
    /// leaves the table with its last connection.
    private let perAddress = Mutex<[IPAddress: Int]>([:])

    /// Whether a new connection may stay.
    enum Admission {
        case admitted(id: UInt64)
        /// At ``maxConnections``.
        case serverFull
        /// Its address is at ``maxConnectionsPerAddress``.
        case addressFull
    }

    init(responder: any HTTPResponder, limits: HTTPLimits, tls: TLSContext?, maxConnections: Int, maxConnectionsPerAddress: Int = 0,
         logger: Logger) {
        self.responder = responder
        self.limits = limits
        self.tls = tls
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.logger = logger
    }

    var connectionCount: Int { openConnections.load(ordering: .relaxed) }
    var webSocketCount: Int { openWebSockets.load(ordering: .relaxed) }
    var slowConsumerCloseCount: Int { slowConsumerCloses.load(ordering: .relaxed) }

    func webSocketOpened() { openWebSockets.add(1, ordering: .relaxed) }
    func webSocketClosed() { openWebSockets.subtract(1, ordering: .relaxed) }
    func closedSlowConsumer() { slowConsumerCloses.add(1, ordering: .relaxed) }
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func beginDraining() { draining.store(true, ordering: .relaxed) }

    /// Reserves a place for a new connection from `peer`, unless the server or that address is at its limit.
    func connectionOpened(from peer: IPAddress?) -> Admission {
        let (_, count) = openConnections.add(1, ordering: .relaxed)
        guard count <= maxConnections else {
            openConnections.subtract(1, ordering: .relaxed)
            return .serverFull
        }
        if maxConnectionsPerAddress > 0, let peer {
            let admitted = perAddress.withLock { counts in
                let open = counts[peer, default: 0]
                guard open < maxConnectionsPerAddress else { return false }
                counts[peer] = open + 1
                return true
            }
            guard admitted else {
                openConnections.subtract(1, ordering: .relaxed)
                return .addressFull
            }
        }
        return .admitted(id: nextConnectionID.add(1, ordering: .relaxed).oldValue)
    }

    /// Gives back the place ``connectionOpened(from:)`` reserved for a connection from `peer`.
    func connectionClosed(from peer: IPAddress?) {
        if maxConnectionsPerAddress > 0, let peer {
            perAddress.withLock { counts in
                let open = counts[peer, default: 1] - 1
                counts[peer] = open > 0 ? open : nil
            }
        }
        openConnections.subtract(1, ordering: .relaxed)
    }

    /// Runs the responder for one request and sends the encoded response back to its connection.
    func respond(to request: HTTPServerRequest, route: ConnectionRoute, slot: UInt64) async {
        let response = await responder.respond(to: request)
        let encoding = HTTPResponseEncoder.Context(request: request)
        let closing = !request.keepAlive || isDraining
        switch response.body {
        case .webSocket(let upgrade):
            let head = HTTPResponseEncoder.encode(response, body: nil, context: encoding, closing: false)
            route.withConnection { $0.receive(slot: slot, bytes: head, finished: true, closing: false, waiter: nil, upgrade: upgrade) }
        case .bytes(let body):
            let bytes = HTTPResponseEncoder.encode(response, body: body, context: encoding, closing: closing)
            route.withConnection { $0.receive(slot: slot, bytes: bytes, finished: true, closing: closing, waiter: nil) }
        case .stream(let produce):
            let chunked = !encoding.isHTTP10
            let closing = closing || !chunked
            let head = HTTPResponseEncoder.encode(response, body: nil, context: encoding, closing: closing)
            do {
                try await route.send(slot: slot, bytes: head, finished: false, closing: false)
                try await produce(ResponseBodyWriter(route: route, slot: slot, suppressBody: encoding.isHead, chunked: chunked))
                let end = encoding.isHead || !chunked ? [] : HTTPResponseEncoder.chunk([])
                try await route.send(slot: slot, bytes: end, finished: true, closing: closing)
            } catch {
                // Part of the body is on the wire: no error response can follow it, so end the connection.
                route.withConnection { $0.forceClose() }
            }
        }
    }
}
