/// The shop's conversation with one visitor (API.md: `GET /v1/conversations/{id}`).
public struct Conversation: Sendable {
    public var id: ConversationID
    public var visitor: VisitorID
    public var customerID: CustomerID?
    public var createdAt: String
    public var updatedAt: String
    /// Every message, oldest first, when read one by one; the last one alone in a list.
    public var messages: [ConversationMessage]

    public init(id: ConversationID, visitor: VisitorID, customerID: CustomerID?, createdAt: String, updatedAt: String, messages: [ConversationMessage]) {
        self.id = id
        self.visitor = visitor
        self.customerID = customerID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.messages = messages
    }
}

/// A message of a conversation: text from the shop or the shopper, or an offer from the shop.
public struct ConversationMessage: Sendable {
    public enum Sender: String, Sendable, Encodable {
        case shop, shopper
    }

    public var from: Sender
    /// The API key that wrote it, for the shop's messages.
    public var author: String?
    public var text: String?
    public var offer: Offer?
    public var at: String

    public init(from: Sender, author: String?, text: String?, offer: Offer?, at: String) {
        self.from = from
        self.author = author
        self.text = text
        self.offer = offer
        self.at = at
    }
}

/// A single-use discount code made for one live visitor (`POST /v1/shoppers/{visitor}/offers`).
public struct Offer: Sendable, Equatable {
    public var code: String
    public var kind: Discount.Kind
    /// Percent for `percent`, minor units for `fixed` (in `currency`), 0 for `free_shipping`.
    public var value: Int64
    public var currency: Currency?
    public var expiresAt: String
    public var visitor: VisitorID
    /// What it is bound to: the customer when known, else the cart (set at the latest on acceptance).
    public var customerID: String?
    public var cartID: String?
    public var acceptedAt: String?
    /// An order used it.
    public var redeemed: Bool

    public init(code: String, kind: Discount.Kind, value: Int64, currency: Currency?, expiresAt: String, visitor: VisitorID,
                customerID: String?, cartID: String?, acceptedAt: String?, redeemed: Bool) {
        self.code = code
        self.kind = kind
        self.value = value
        self.currency = currency
        self.expiresAt = expiresAt
        self.visitor = visitor
        self.customerID = customerID
        self.cartID = cartID
        self.acceptedAt = acceptedAt
        self.redeemed = redeemed
    }

    /// What `issued_for` says of an offer's discount.
    static func source(of visitor: VisitorID) -> String { "offer:\(visitor)" }
}
