/// A basket whose every unit is reserved while it is active (API.md, Carts).
public struct Cart: Codable, Sendable, Equatable {
    public enum Channel: String, Codable, Sendable {
        /// A web or app shop: reserves from the locations that fulfil online.
        case online
        /// A till: reserves at its location.
        case pos
    }

    public enum Status: String, Codable, Sendable {
        case active, expired, completed, deleted
    }

    public var id: CartID
    public var channel: Channel
    public var status: Status
    /// The location code a `pos` cart sells from.
    public var location: String?
    public var customerId: String?
    public var email: String?
    public var currency: Currency
    public var checkoutStep: String
    public var shippingAddress: Address?
    public var billingAddress: Address?
    /// The chosen shipping method's id.
    public var shippingMethod: String?
    public var discountCodes: [String]
    public var lines: [CartLine]
    public var totals: CartTotals
    /// When the reservations lapse unless the cart is written again.
    public var expiresAt: String
    public var createdAt: String
    public var updatedAt: String

    /// Who counts as one customer for per-customer discount limits: the customer id, else the email.
    var customerKey: String? { customerId ?? email?.lowercased() }

    /// The totals before pricing: subtotal and total are the sum of the lines, the rest zero.
    static func unpricedTotals(of lines: [CartLine], currency: Currency) -> CartTotals {
        let subtotal = Money(amount: lines.reduce(Int64(0)) { $0 + $1.lineTotal.amount }, currency: currency)
        let zero = Money(amount: 0, currency: currency)
        return CartTotals(subtotal: subtotal, discount: zero, shipping: zero, tax: zero, total: subtotal)
    }

    /// Replaces the lines and resets the totals to theirs, for pricing again.
    mutating func setLines(_ lines: [CartLine]) {
        self.lines = lines
        totals = Cart.unpricedTotals(of: lines, currency: currency)
    }
}

/// One SKU in a cart, with its units reserved.
public struct CartLine: Codable, Sendable, Equatable {
    public var id: CartLineID
    public var sku: String
    public var title: String
    public var quantity: Int
    public var unitPrice: Money
    public var lineTotal: Money
    /// Free JSON kept with the line for a longer checkout (an engraving, a guest list).
    public var customisation: JSONValue?

    /// Sets the quantity and the line total with it.
    mutating func setQuantity(_ quantity: Int) {
        self.quantity = quantity
        lineTotal = Money(amount: unitPrice.amount * Int64(quantity), currency: unitPrice.currency)
    }
}

/// A cart's money, all in its currency's minor units.
public struct CartTotals: Codable, Sendable, Equatable {
    public var subtotal: Money
    public var discount: Money
    public var shipping: Money
    public var tax: Money
    public var total: Money
}

/// Cart failures.
public enum CartError: Error, Equatable {
    case notFound(String)
    case lineNotFound(String)
    /// The cart was completed or deleted and takes no more changes.
    case closed(id: String, status: Cart.Status)
    /// The SKU's price is in another currency than the cart.
    case currencyMismatch(sku: String, cart: String, price: String)
    /// The SKU is not for sale (its product is a draft or archived).
    case notForSale(String)
}
