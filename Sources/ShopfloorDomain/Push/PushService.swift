import Foundation

/// Push subscriptions (API.md, Messages): made by a storefront for a cart being checked out or an
/// order by its tracking token, removed by the storefront or when the push service says the
/// subscription is gone. What is pushed is the outbox's; ``OrderMessages`` queues it.
public final class PushService: Sendable {
    private let store: any PushSubscriptionStore
    private let carts: any CartStore
    private let orders: any OrderStore
    private let writer: any StoreWriter
    private let clock: any WallClock

    public init(stores: Stores, clock: any WallClock = SystemClock()) {
        store = stores.push
        carts = stores.carts
        orders = stores.orders
        writer = stores.writer
        self.clock = clock
    }

    /// What a storefront sends to subscribe.
    public struct Request: Sendable {
        public var endpoint: String
        public var p256dh: String
        public var auth: String
        public var visitor: String?
        public var cartID: CartID?
        public var trackingToken: String?
        /// The signed-in shopper subscribing: their browser then hears what is theirs.
        public var customerID: CustomerID?

        public init(endpoint: String, p256dh: String, auth: String, visitor: String?, cartID: CartID?, trackingToken: String?,
                    customerID: CustomerID? = nil) {
            self.endpoint = endpoint
            self.p256dh = p256dh
            self.auth = auth
            self.visitor = visitor
            self.cartID = cartID
            self.trackingToken = trackingToken
            self.customerID = customerID
        }
    }

    public func subscribe(_ request: Request) async throws -> PushSubscription {
        var validator = Validator()
        if let components = URLComponents(string: request.endpoint), let scheme = components.scheme?.lowercased(),
           scheme == "https" || scheme == "http", components.host?.isEmpty == false, request.endpoint.utf8.count <= 2_000,
           request.endpoint.allSatisfy({ !$0.isWhitespace }) {
            validator.check(components.user == nil && components.password == nil && components.fragment == nil, "endpoint",
                            "must not carry a user, password or fragment")
        } else {
            validator.check(false, "endpoint", "must be the push service's absolute https URL of at most 2000 characters")
        }
        // Unpadded base64url of a 65-byte uncompressed P-256 point (starting 0x04, so "B") and of 16 bytes.
        validator.check(Self.isBase64URL(request.p256dh, length: 87) && request.p256dh.hasPrefix("B"), "keys.p256dh",
                        "must be an uncompressed P-256 public key in base64url (87 characters)")
        validator.check(Self.isBase64URL(request.auth, length: 22), "keys.auth", "must be a 16-byte secret in base64url (22 characters)")
        validator.text(request.visitor, "visitor", max: 64, required: false)
        validator.check(request.cartID == nil || request.trackingToken == nil, "cart", "give a cart or a tracking_token, not both")
        try validator.throwIfAny()

        var orderID: OrderID?
        if let cart = request.cartID {
            guard try carts.cart(cart) != nil else { throw ValidationError(field: "cart", detail: "names no cart") }
        }
        if let token = request.trackingToken {
            guard token.utf8.count <= 100, let order = try orders.order(trackingToken: token) else {
                throw ValidationError(field: "tracking_token", detail: "names no order")
            }
            orderID = order.id
        }
        let stamp = clock.timestamp
        let subscription = PushSubscription(
            id: .make(), endpoint: request.endpoint, p256dh: request.p256dh, auth: request.auth, visitor: request.visitor, customerID: request.customerID?.rawValue,
            cartID: request.cartID, orderID: orderID, createdAt: stamp, updatedAt: stamp)
        return try await writer.write { transaction in try self.store.upsert(subscription, in: transaction) }
    }

    /// Removes the subscription with this endpoint: the push service's word (404 or 410) that it is gone.
    @discardableResult
    public func unsubscribe(endpoint: String) async throws -> Bool {
        try await writer.write { transaction in try self.store.delete(endpoint: endpoint, in: transaction) }
    }

    /// Removes subscription `id` (the storefront's unsubscribe); `false` when there was none.
    public func unsubscribe(id: PushSubscriptionID) async throws -> Bool {
        try await writer.write { transaction in try self.store.delete(id, in: transaction) }
    }

    public func subscription(endpoint: String) throws -> PushSubscription? {
        try store.subscription(endpoint: endpoint)
    }

    /// Those following `order` (or the cart it came from), read inside the order's transaction.
    func subscriptions(following order: Order, in transaction: any WriteTransaction) throws -> [PushSubscription] {
        try store.subscriptions(following: order.id, cart: order.cartID, in: transaction)
    }

    private static func isBase64URL(_ text: String, length: Int) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
        }
    }
}
