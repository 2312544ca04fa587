public import ShopfloorJSON

/// One live visitor as the back office sees it (API.md, Live shoppers): the `items` of
/// `GET /v1/shoppers/live` and the data of `shopper.joined`, `shopper.updated` and `shopper.viewed`.
///
/// Every member is written, absent ones as `null`, so an admin page can replace its row with the
/// event's data instead of merging it (``writeJSON(into:)``).
public struct ShopperEntry: Sendable, Equatable, Encodable {
    /// Who the shopper is, shown only once they are identified (signed in, or a cart that names a
    /// customer or carries a known customer's email).
    public struct Customer: Sendable, Equatable, Encodable {
        public var id: String
        public var name: String?
        public var email: String?

    }

    public struct Page: Sendable, Equatable, Encodable {
        public var path: String
        public var title: String?

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

}

/// Written by hand: an entry is encoded for every `track` of every live shopper (its event's data),
/// and the generic encoder showed there.
extension ShopperEntry: DirectJSONEncodable {
    public func writeJSON(into object: inout JSONObjectWriter) throws {
        object.string("visitor", visitor.rawValue)
        if let customer {
            object.object("customer") { member in
                member.string("id", customer.id)
                member.string("name", orNull: customer.name)
                member.string("email", orNull: customer.email)
            }
        } else {
            object.null("customer")
        }
        object.string("since", since)
        object.string("last_active_at", lastActiveAt)
        if let page {
            object.object("page") { member in
                member.string("path", page.path)
                member.string("title", orNull: page.title)
            }
        } else {
            object.null("page")
        }
        if let product {
            object.object("product") { member in
                member.string("id", product.id)
                member.string("title", product.title)
            }
        } else {
            object.null("product")
        }
        object.bool("hidden", hidden)
        if let cart {
            object.object("cart") { member in
                member.string("id", cart.id)
                member.integer("lines", Int64(cart.lines))
                member.object("total") { total in
                    total.integer("amount", cart.total.amount)
                    total.string("currency", cart.total.currency.code)
                }
            }
        } else {
            object.null("cart")
        }
        object.string("checkout_step", orNull: checkoutStep)
        object.string("stage", stage.rawValue)
        object.integer("sockets", Int64(sockets))
    }
}

/// The data of `shopper.left`.
struct ShopperLeft: Encodable {
    var visitor: String
}
