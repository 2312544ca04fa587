import Logging
import ServiceLifecycle
import ShopfloorDomain

/// Cart expiry (``CartService/runExpiry(tick:onError:)``, its own 250 ms loop) as a service of the
/// application's group, so the database closes only after it has stopped.
///
/// Graceful shutdown cancels the loop, as the old hand-made maintenance task did; a cart cancelled
/// halfway through expiring (marked expired, units not all released) is released on the next start
/// (``CartService/recover()``).
struct CartExpiryService: Service {
    let carts: CartService
    let logger: Logger

    func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "cart expiry"]) }
        let carts = carts
        let logger = logger
        await cancelWhenGracefulShutdown {
            await carts.runExpiry { error in
                // Cancellation is the shutdown reaching a cart mid-expiry, not a failure.
                guard !(error is CancellationError) else { return }
                logger.error("cart expiry failed: \(error)", metadata: ["job": "cart expiry"])
            }
        }
    }
}
