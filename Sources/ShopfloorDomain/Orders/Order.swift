public import ShopfloorJSON
/// Where an order is in its life (API.md, Checkout and orders).
public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    case placed, paid, confirmed, packed, dispatched, delivered, cancelled, refunded

    /// The moves allowed from each status; anything else is `invalid_transition`. (A till sale is
    /// recorded as delivered when it is placed: the customer leaves with the goods.)
    public var next: Set<OrderStatus> {
        switch self {
        case .placed: [.paid, .cancelled]
        case .paid: [.confirmed, .cancelled, .refunded]
        case .confirmed: [.packed, .cancelled, .refunded]
        case .packed: [.dispatched, .cancelled, .refunded]
        case .dispatched: [.delivered, .refunded]
        case .delivered: [.refunded]
        case .cancelled, .refunded: []
        }
    }

    /// Whether the goods are still with the shop, so cancelling or refunding puts them back in stock.
    var goodsInStock: Bool {
        switch self {
        case .placed, .paid, .confirmed, .packed: true
        case .dispatched, .delivered, .cancelled, .refunded: false
        }
    }
}

/// A placed order: what was bought, for how much, how it was paid and what happened since.
public struct Order: Codable, Sendable, Equatable {
    public var id: OrderID
    /// Human-friendly and sequential per shop: `#1001`.
    public var number: String
    public var cartID: CartID
    public var channel: Cart.Channel
    public var location: String?
    public var status: OrderStatus
    public var customerID: String?
    public var email: String?
    /// E.164, from the cart.
    public var phone: String?
    public var currency: Currency
    public var lines: [OrderLine]
    public var totals: CartTotals
    public var shippingAddress: Address?
    public var billingAddress: Address?
    public var shippingMethod: ShippingMethod?
    public var discountCodes: [String]
    public var payments: [Payment]
    public var history: [OrderHistoryEntry]
    public var trackingToken: String
    public var trackingNumber: String?
    public var createdAt: String
    public var updatedAt: String
    /// Only in the response that completes a `pos` cart paid on the customer's own device: the
    /// single-use 6-digit PIN the till enters to hand the goods over. Stored hashed, never shown again.
    public var handoverPin: String?

    public init(
        id: OrderID, number: String, cartID: CartID, channel: Cart.Channel, location: String?, status: OrderStatus, customerID: String?,
        email: String?, currency: Currency, lines: [OrderLine], totals: CartTotals, shippingAddress: Address?, billingAddress: Address?,
        shippingMethod: ShippingMethod?, discountCodes: [String], payments: [Payment], history: [OrderHistoryEntry], trackingToken: String,
        trackingNumber: String?, createdAt: String, updatedAt: String, handoverPin: String?, phone: String? = nil
    ) {
        self.phone = phone
        self.id = id
        self.number = number
        self.cartID = cartID
        self.channel = channel
        self.location = location
        self.status = status
        self.customerID = customerID
        self.email = email
        self.currency = currency
        self.lines = lines
        self.totals = totals
        self.shippingAddress = shippingAddress
        self.billingAddress = billingAddress
        self.shippingMethod = shippingMethod
        self.discountCodes = discountCodes
        self.payments = payments
        self.history = history
        self.trackingToken = trackingToken
        self.trackingNumber = trackingNumber
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.handoverPin = handoverPin
    }
}

public struct OrderLine: Codable, Sendable, Equatable {
    public var sku: String
    public var title: String
    public var quantity: Int
    public var unitPrice: Money
    public var lineTotal: Money
    public var customisation: JSONValue?
    /// Where the units came from: cancelling before dispatch returns them there.
    public var allocations: [LineAllocation]

    public init(
        sku: String, title: String, quantity: Int, unitPrice: Money, lineTotal: Money, customisation: JSONValue?,
        allocations: [LineAllocation]
    ) {
        self.sku = sku
        self.title = title
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.lineTotal = lineTotal
        self.customisation = customisation
        self.allocations = allocations
    }
}

/// Units of an order line taken from one location.
public struct LineAllocation: Codable, Sendable, Equatable {
    public var location: String
    public var quantity: Int

    public init(location: String, quantity: Int) {
        self.location = location
        self.quantity = quantity
    }
}

public struct Payment: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case succeeded, pending, failed, refunded }

    public var id: PaymentID
    public var method: String
    public var status: Status
    public var amount: Money
    /// The till's note, or the test card's last four digits.
    public var reference: String?
    public var createdAt: String

    public init(id: PaymentID, method: String, status: Status, amount: Money, reference: String?, createdAt: String) {
        self.id = id
        self.method = method
        self.status = status
        self.amount = amount
        self.reference = reference
        self.createdAt = createdAt
    }
}

/// One step of an order's history: the status it entered, when, who moved it, and why.
public struct OrderHistoryEntry: Codable, Sendable, Equatable {
    public var status: OrderStatus
    public var at: String
    public var actor: String
    public var note: String?
    public var trackingNumber: String?

    public init(status: OrderStatus, at: String, actor: String, note: String?, trackingNumber: String?) {
        self.status = status
        self.at = at
        self.actor = actor
        self.note = note
        self.trackingNumber = trackingNumber
    }
}

/// What a public tracking page may show: no personal data beyond the first name.
public struct OrderTracking: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public var status: OrderStatus
        public var at: String
    }

    public struct Item: Codable, Sendable, Equatable {
        public var title: String
        public var quantity: Int
    }

    public var number: String
    public var status: OrderStatus
    public var firstName: String?
    public var trackingNumber: String?
    public var items: [Item]
    public var history: [Step]
}
