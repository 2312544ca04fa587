import Logging
import ServiceLifecycle
import ShopfloorTransport

/// The `--metrics-listen` server as a service: it starts before the API's server and stops after it,
/// so a scrape during a graceful stop still sees the drain.
struct MetricsServerService: Service {
    let server: HTTPServer
    let logger: Logger

    func run() async {
        server.start()
        logger.notice("metrics on http://\(server.localAddress)/metrics")
        _ = try? await gracefulShutdown()
        server.drain()
        _ = await server.waitUntilIdle(timeout: .seconds(1))
        server.stop()
    }
}
