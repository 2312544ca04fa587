/// One live visitor as the back office sees it (API.md, Live shoppers): the `items` of
/// `GET /v1/shoppers/live` and the data of `shopper.joined`, `shopper.updated` and `shopper.viewed`.
///
/// Every member is written, absent ones as `null`, so an admin page can replace its row with the
/// event's data instead of merging it.
public struct ShopperEntry: Sendable, Equatable, Encodable {
    /// Who the shopper is, shown only once they are identified (signed in, or a cart that names a
    /// customer or carries a known customer's email).
    public struct Customer: Sendable, Equatable, Encodable {
        public var id: String
        public var name: String?
        public var email: String?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(email, forKey: .email)
        }

        private enum CodingKeys: String, CodingKey { case id, name, email }
    }

    public struct Page: Sendable, Equatable, Encodable {
        public var path: String
        public var title: String?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(path, forKey: .path)
            try container.encode(title, forKey: .title)
        }

        private enum CodingKeys: String, CodingKey { case path, title }
    }

    public struct Product: Sendable, Equatable, Encodable {
        public var id: String
        public var title: String
    }

    public struct Cart: Sendable, Equatable, Encodable {
        public var id: String
        public var lines: Int
        public var total: Money
    }

    public var visitor: VisitorID
    public var customer: Customer?
    /// When this visit began (the first socket's `hello`).
    public var since: String
    public var lastActiveAt: String
    public var page: Page?
    /// The product last viewed on this visit.
    public var product: Product?
    /// Every socket of the visitor is in a background tab.
    public var hidden: Bool
    public var cart: Cart?
    public var checkoutStep: String?
    public var stage: ShopperStage
    /// Open sockets (tabs); 0 during the grace period after the last one closed.
    public var sockets: Int

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(visitor.rawValue, forKey: .visitor)
        try container.encode(customer, forKey: .customer)
        try container.encode(since, forKey: .since)
        try container.encode(lastActiveAt, forKey: .lastActiveAt)
        try container.encode(page, forKey: .page)
        try container.encode(product, forKey: .product)
        try container.encode(hidden, forKey: .hidden)
        try container.encode(cart, forKey: .cart)
        try container.encode(checkoutStep, forKey: .checkoutStep)
        try container.encode(stage, forKey: .stage)
        try container.encode(sockets, forKey: .sockets)
    }

    private enum CodingKeys: String, CodingKey {
        case visitor, customer, since, lastActiveAt, page, product, hidden, cart, checkoutStep, stage, sockets
    }
}

/// The data of `shopper.left`.
struct ShopperLeft: Encodable {
    var visitor: String
}
