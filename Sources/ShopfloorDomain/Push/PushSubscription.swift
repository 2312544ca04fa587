/// A browser's or app's permission to be sent push messages (RFC 8030): the push service's endpoint
/// and the keys the payload is encrypted for (RFC 8291), tied to what it wants to hear about.
public struct PushSubscription: Sendable, Equatable {
    public var id: PushSubscriptionID
    public var endpoint: String
    /// The user agent's P-256 public key, base64url (65 bytes, uncompressed).
    public var p256dh: String
    /// The user agent's authentication secret, base64url (16 bytes).
    public var auth: String
    public var visitor: String?
    public var customerID: String?
    /// A cart whose order, once placed, is followed: the storefront subscribes during checkout.
    public var cartID: CartID?
    /// An order followed (subscribed with its tracking token after it was placed).
    public var orderID: OrderID?
    public var createdAt: String
    public var updatedAt: String

    public init(id: PushSubscriptionID, endpoint: String, p256dh: String, auth: String, visitor: String?, customerID: String?, cartID: CartID?,
                orderID: OrderID?, createdAt: String, updatedAt: String) {
        self.id = id
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
        self.visitor = visitor
        self.customerID = customerID
        self.cartID = cartID
        self.orderID = orderID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct PushSubscriptionID: EntityID {
    public static let prefix = "psub"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}
