import Logging
import ServiceLifecycle
import ShopfloorDomain

/// The outbox's delivery loop (``DeliveryService/run(tick:)``) as a service of the application's
/// group, started after the database and stopped before it closes. Graceful shutdown cancels the
/// loop; attempts in flight finish (their channels' timeouts bound them) and are recorded, and a
/// message whose attempt was cut short stays due, to be sent on the next start.
struct MessageDeliveryService: Service {
    let delivery: DeliveryService
    /// Closed (their connections said goodbye to) once the loop has ended.
    let senders: [any MessageSender]
    let logger: Logger

    func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "message delivery"]) }
        let delivery = delivery
        await cancelWhenGracefulShutdown {
            await delivery.run()
        }
        for sender in senders { sender.close() }
    }
}
