import Logging
import ServiceLifecycle
import ShopfloorTransport

/// Owns the outbound HTTP client that webhooks, SMS and push share: placed before their delivery
/// loops in the application's service list, so the group stops it after them, and it then closes the
/// pooled connections and ends the client's threads.
struct OutboundHTTPService: Service {
    let client: HTTPClient
    let logger: Logger

    func run() async {
        try? await gracefulShutdown()
        await client.shutdown()
        logger.debug("outbound HTTP client shut down")
    }
}
