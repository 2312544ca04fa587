import Logging
import ServiceLifecycle
import ShopfloorDomain

/// The webhook dispatcher (events into deliveries) and the webhook delivery loop, each a service of
/// the application's group, stopped before the outbound HTTP client and the database. A delivery cut
/// short by the stop stays pending and goes on the next start with the same `webhook-id`.
struct WebhookDispatchService: Service {
    let dispatcher: WebhookDispatcher
    let logger: Logger

    func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "webhook dispatch"]) }
        let dispatcher = dispatcher
        await cancelWhenGracefulShutdown { await dispatcher.run() }
    }
}

struct WebhookDeliveryLoopService: Service {
    let delivery: WebhookDeliveryService
    let logger: Logger

    func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "webhook delivery"]) }
        let delivery = delivery
        await cancelWhenGracefulShutdown { await delivery.run() }
    }
}
