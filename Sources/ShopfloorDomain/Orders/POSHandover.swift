import Foundation
import ShopfloorCrypto

/// The hand-over of a till cart that the customer paid on their own phone: the phone shows a
/// single-use 6-digit PIN, the salesperson types it at the till, and the order is delivered there.
///
/// PINs are stored as SHA-256 of the order id and the PIN and live ten minutes. A till that names
/// the cart aims its tries at that one hand-over, which allows five wrong ones. Whatever it names, a
/// till (its key) may send five wrong PINs in ten minutes, then waits (429): so a wrong PIN sent
/// without a cart locks no one else's hand-over, and guessing among a location's open ones is slow.
public struct POSHandover: Sendable {
    public static let lifetime: Int64 = 10 * 60 * 1000
    public static let maxAttempts = 5

    private let store: any HandoverStore
    private let writer: any StoreWriter
    private let orders: OrderService
    private let throttle: FailureThrottle

    public init(stores: Stores, orders: OrderService) {
        store = stores.handovers
        writer = stores.writer
        self.orders = orders
        throttle = FailureThrottle(limit: Self.maxAttempts, windowMilliseconds: Self.lifetime, clock: orders.clock)
    }

    /// Makes a PIN for `order` at `location` inside the completion's transaction and returns it.
    static func issue(for order: OrderID, location: LocationID, store: any HandoverStore, clock: any WallClock,
                      in transaction: any WriteTransaction) throws -> String {
        let pin = SecureRandom.sixDigits()
        try store.insert(order: order, location: location, pinHash: hash(pin, order: order), expiresAtMilliseconds: clock.milliseconds + lifetime,
                         in: transaction)
        return pin
    }

    public enum Failure: Error, Equatable {
        /// Wrong, used or expired: the three look the same to the till, on purpose.
        case refused
        /// The till sent too many wrong PINs lately: it may try again in this many seconds.
        case tooManyWrongPINs(retryAfter: Int)
    }

    /// Delivers the order whose PIN this is, at the till's location. `caller` names the till (its key)
    /// for the throttle on wrong PINs.
    public func handOver(pin: String, cart: CartID?, location: LocationID, actor: String, caller: String) async throws -> Order {
        if let wait = throttle.wait(for: caller) { throw Failure.tooManyWrongPINs(retryAfter: wait) }
        let clock = orders.clock
        let now = clock.milliseconds
        let result: Result<Order, Failure> = try await writer.write { transaction in
            let open = try self.store.open(at: location, cart: cart, now: now, maxAttempts: Self.maxAttempts, in: transaction)
            let valid = pin.utf8.count == 6 && pin.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            guard valid, let match = open.first(where: { Digest.constantTimeEquals($0.pinHash, Self.hash(pin, order: $0.order)) }) else {
                // Counted against a hand-over only when the till aimed at it.
                if cart != nil { for handover in open { try self.store.countFailedAttempt(order: handover.order, in: transaction) } }
                return .failure(.refused)
            }
            try self.store.markUsed(order: match.order, at: clock.timestamp, in: transaction)
            return .success(try self.orders.record(match.order, status: .delivered, actor: actor, note: "handed over at the till",
                                                   trackingNumber: nil, in: transaction))
        }
        if case .failure = result { throttle.recordFailure(of: caller) }
        return try result.get()
    }

    /// Six digits, uniform: random 32-bit values at or above the last whole multiple of a million are drawn again.
    private static func hash(_ pin: String, order: OrderID) -> [UInt8] {
        Digest.sha256(Array("\(order.rawValue):\(pin)".utf8))
    }
}
