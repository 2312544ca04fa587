import ShopfloorDomain
import ShopfloorTransport
import Synchronization

/// Token buckets for one kind of caller (client addresses, staff keys, or addresses on the sensitive
/// routes), kept in memory by the injected clock. The table is split in stripes, each under its own
/// lock, so requests on different threads rarely wait for each other.
///
/// Memory stays bounded: a stripe that reaches its share of ``maxCallers`` drops the buckets that
/// are full again (no different from new ones); if every one is still in use, it starts afresh,
/// which lets those callers through early rather than letting the table grow without end.
final class RateLimiter: Sendable {
    /// Who a bucket belongs to.
    enum Caller: Hashable, Sendable {
        case address(IPAddress)
        case key(String)
    }

    let limit: RateLimit
    /// The name of the policy in `RateLimit` headers (`address`, `key`, `sensitive`).
    let name: String
    private let clock: any WallClock
    private let stripes: [Stripe]
    private let maxPerStripe: Int

    static let maxCallers = 200_000
    private static let stripeCount = 16

    init(name: String, limit: RateLimit, clock: any WallClock, maxCallers: Int = RateLimiter.maxCallers) {
        self.name = name
        self.limit = limit
        self.clock = clock
        stripes = (0..<Self.stripeCount).map { _ in Stripe() }
        maxPerStripe = max(1, maxCallers / Self.stripeCount)
    }

    /// Takes one request's token from `caller`'s bucket: `nil` when admitted, else seconds to wait.
    func take(_ caller: Caller) -> Int? {
        let now = clock.milliseconds
        let limit = limit
        let maxPerStripe = maxPerStripe
        return stripes[Int(UInt(bitPattern: caller.hashValue) % UInt(Self.stripeCount))].buckets.withLock { buckets in
            if let index = buckets.index(forKey: caller) {
                return buckets.values[index].take(limit, now: now)
            }
            if buckets.count >= maxPerStripe {
                buckets = buckets.filter { !$0.value.isFull(limit, now: now) }
                if buckets.count >= maxPerStripe { buckets.removeAll(keepingCapacity: true) }
            }
            var bucket = TokenBucket(limit: limit, now: now)
            let wait = bucket.take(limit, now: now)
            buckets[caller] = bucket
            return wait
        }
    }

    /// A part of the table with its lock (a `Mutex` cannot sit in an array itself).
    private final class Stripe: Sendable {
        let buckets = Mutex<[Caller: TokenBucket]>([:])
    }

    /// The refusal for a caller told to wait `seconds`.
    func refusal(retryAfter seconds: Int) -> APIError {
        .rateLimited(policy: name, limit: limit, retryAfter: seconds)
    }
}
