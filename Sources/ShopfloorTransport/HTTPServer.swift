#if canImport(Glibc)
import Glibc
#endif
public import Logging

/// An HTTP/1.1 server: a listening socket and one event loop per thread, answering through an
/// ``HTTPResponder``.
///
/// Lifecycle: ``start()`` binds and runs the loops; ``drain()`` stops accepting and lets connections
/// finish what is in flight; ``waitUntilIdle(timeout:)`` waits for that; ``stop()`` closes whatever
/// remains and joins the loop threads. See docs/ARCHITECTURE.md.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Event-loop threads; one per core is right for most machines.
        public var threads: Int
        public var limits: HTTPLimits
        /// Open connections beyond this are answered 503 and closed.
        public var maxConnections: Int
        /// Open connections from one peer address beyond this (0: no cap) are answered 429 and closed.
        public var maxConnectionsPerAddress: Int
        /// Serve TLS only when set.
        public var tls: TLSContext?
        public var backlog: Int32

        public init(host: String = "0.0.0.0", port: Int = 8080, threads: Int = System.coreCount, limits: HTTPLimits = HTTPLimits(),
                    maxConnections: Int = 10_000, maxConnectionsPerAddress: Int = 0, tls: TLSContext? = nil, backlog: Int32 = 4096) {
            self.host = host
            self.port = port
            self.threads = threads
            self.limits = limits
            self.maxConnections = maxConnections
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.tls = tls
            self.backlog = backlog
        }
    }

    private let configuration: Configuration
    private let context: ServerContext
    private let loops: [EventLoop]
    private let listenerFD: Int32
    /// Where the server listens; with port 0 this carries the port the kernel chose.
    public let localAddress: SocketAddress

    /// Binds the listening socket; nothing is accepted until ``start()``.
    public init(configuration: Configuration, responder: any HTTPResponder, logger: Logger) throws {
        // A write to a socket the peer has reset must fail with EPIPE, not kill the process; OpenSSL
        // writes with write(2), where MSG_NOSIGNAL cannot be passed.
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        context = ServerContext(
            responder: responder, limits: configuration.limits, tls: configuration.tls,
            maxConnections: configuration.maxConnections, maxConnectionsPerAddress: configuration.maxConnectionsPerAddress, logger: logger)
        loops = try (0..<max(1, configuration.threads)).map { _ in try EventLoop() }
        let address = try SocketAddress.resolve(host: configuration.host, port: configuration.port)
        let socket = try Socket.makeListening(address: address, reusePort: false, backlog: configuration.backlog)
        listenerFD = socket.fd
        localAddress = try socket.localAddress()
    }

    /// The number of open client connections.
    public var connectionCount: Int { context.connectionCount }
    /// Open connections that are WebSockets now.
    public var webSocketCount: Int { context.webSocketCount }
    /// WebSockets closed with 1008 for not keeping up with what was sent to them, since start.
    public var slowConsumerCloseCount: Int { context.slowConsumerCloseCount }

    /// Starts the loop threads and begins accepting.
    public func start() {
        for loop in loops { loop.start() }
        let first = loops[0]
        let loops = loops
        let context = context
        let fd = listenerFD
        first.execute {
            let listener = HTTPListener(socket: Socket(fd: fd), loop: first, loops: loops, context: context)
            do {
                try listener.register()
            } catch {
                context.logger.critical("cannot watch the listening socket: \(error)")
            }
        }
    }

    /// Stops accepting and asks every connection to close once its in-flight responses are sent.
    /// Responses from now on carry `Connection: close`.
    public func drain() {
        context.beginDraining()
        let fd = listenerFD
        loops[0].execute { [first = loops[0]] in
            first.handler(fd: fd)?.forceClose()
        }
        for loop in loops {
            loop.execute {
                for handler in loop.allHandlers() { handler.drain() }
            }
        }
    }

    /// Waits until no connection is open or `timeout` has passed; `true` if all closed.
    public func waitUntilIdle(timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while context.connectionCount > 0 {
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Closes every connection and the listener and joins the loop threads. Blocks until done.
    public func stop() {
        for loop in loops { loop.stopAndJoin() }
        context.workers.close()
    }
}

/// Facts about the machine.
public enum System {
    /// Cores available to this process (its CPU affinity, so containers with a CPU set are honoured).
    public static var coreCount: Int {
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
