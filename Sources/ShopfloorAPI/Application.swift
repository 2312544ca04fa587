public import Logging
public import ShopfloorStorage
public import ShopfloorTransport

/// The service wired together: storage, routes, and the HTTP server, with start and graceful stop.
public final class Application: Sendable {
    public let configuration: Configuration
    public let database: Database
    public let lifecycle = Lifecycle()
    private let server: HTTPServer
    private let logger: Logger

    /// Opens storage (running migrations) and binds the listening socket; serves nothing until
    /// ``start()``.
    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        database = try Database(
            directory: configuration.dataDirectory, migrations: Migrations.all,
            readerCount: max(4, configuration.threads * 2))
        var router = Router()
        SystemRoutes(lifecycle: lifecycle).register(on: &router)
        if configuration.enableEcho { EchoRoutes().register(on: &router) }
        let responder = APIResponder(
            router: router,
            middleware: [RequestIDMiddleware(), AccessLogMiddleware(), ProblemMiddleware()],
            logger: logger)
        var tls: TLSContext?
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            tls = try TLSContext(certificatePath: certificate, keyPath: key)
        }
        server = try HTTPServer(
            configuration: .init(
                host: configuration.host, port: configuration.port, threads: configuration.threads,
                limits: configuration.limits, maxConnections: configuration.maxConnections, tls: tls),
            responder: responder, logger: logger)
    }

    /// Where the server listens (the real port when configured with port 0).
    public var localAddress: SocketAddress { server.localAddress }

    /// Starts serving and reports ready.
    public func start() {
        server.start()
        lifecycle.enter(.ready)
        let scheme = configuration.tlsCertificatePath == nil ? "http" : "https"
        logger.notice("Shopfloor listening on \(scheme)://\(server.localAddress)")
    }

    /// Graceful stop: `/ready` turns 503, no new connections, in-flight requests finish (bounded by
    /// the drain timeout), then everything closes.
    public func shutdown() async {
        lifecycle.enter(.draining)
        server.drain()
        let drained = await server.waitUntilIdle(timeout: configuration.drainTimeout)
        if !drained { logger.warning("drain timeout reached with \(server.connectionCount) connections open; closing them") }
        server.stop()
        database.close()
        logger.notice("Shopfloor stopped")
    }
}
