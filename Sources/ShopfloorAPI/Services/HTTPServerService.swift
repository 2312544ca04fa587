import Logging
import ServiceLifecycle
import ShopfloorTransport

/// The HTTP server as a service: last in the application's service list, so it starts accepting once
/// the rest is running and is the first to stop, before any background job or the database.
///
/// Its stop is the drain described under "Graceful stop" in docs/ARCHITECTURE.md: `/ready` turns 503,
/// the listener closes, idle connections close, in-flight requests are answered (with
/// `Connection: close`) for up to `drainTimeout`, WebSockets get 1001, then the loops exit. When the
/// group is cancelled rather than shut down gracefully it does the same without waiting for requests.
struct HTTPServerService: Service {
    let server: HTTPServer
    let lifecycle: Lifecycle
    let drainTimeout: Duration
    let scheme: String
    let logger: Logger
    /// Called once the server accepts and `/ready` answers 200; `Application.start()` waits for it.
    let onReady: @Sendable () -> Void

    func run() async {
        server.start()
        lifecycle.enter(.ready)
        logger.notice("Shopfloor listening on \(scheme)://\(server.localAddress)")
        onReady()
        let graceful = (try? await gracefulShutdown()) != nil
        lifecycle.enter(.draining)
        server.drain()
        // `waitUntilIdle` polls with sleeps, which a cancelled task skips: it would spin until the deadline.
        if graceful, !(await server.waitUntilIdle(timeout: drainTimeout)) {
            logger.warning("drain timeout reached with \(server.connectionCount) connections open; closing them")
        }
        server.stop()
        logger.debug("HTTP server stopped")
    }
}
