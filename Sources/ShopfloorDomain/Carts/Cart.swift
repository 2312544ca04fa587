public import ShopfloorJSON
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

    /// What a cart is, kept in a box (``Storage``).
    private struct Fields: Codable, Sendable, Equatable {
        var id: CartID
        var channel: Channel
        var status: Status
        var location: String?
        var customerID: String?
        var customerVerified: Bool
        var email: String?
        var phone: String?
        var currency: Currency
        var checkoutStep: String
        var shippingAddress: Address?
        var billingAddress: Address?
        var shippingMethod: String?
        var discountCodes: [String]
        var lines: [CartLine]
        var totals: CartTotals
        var expiresAt: String
        var createdAt: String
        var updatedAt: String
    }

    /// The fields, shared between copies until one of them changes (then it takes a box of its own).
    ///
    /// A cart passes through several hands in every line write (the cart memory, the write, pricing,
    /// the answer's encoder), and a copy of its fields is a retain and a release per string and array;
    /// a copy of the box is one. `@unchecked Sendable`: `fields` changes only through a box that no
    /// other cart refers to (``mutate(_:)``), so a box is never changed while shared.
    private final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    private mutating func mutate(_ change: (inout Fields) -> Void) {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        change(&storage.fields)
    }

    public var id: CartID {
        get { storage.fields.id }
        set { mutate { $0.id = newValue } }
    }
    public var channel: Channel {
        get { storage.fields.channel }
        set { mutate { $0.channel = newValue } }
    }
    public var status: Status {
        get { storage.fields.status }
        set { mutate { $0.status = newValue } }
    }
    /// The location code a `pos` cart sells from.
    public var location: String? {
        get { storage.fields.location }
        set { mutate { $0.location = newValue } }
    }
    public var customerID: String? {
        get { storage.fields.customerID }
        set { mutate { $0.customerID = newValue } }
    }
    /// The customer was named by an admin or pos key, or by their own signed-in session, rather than
    /// by whoever holds the cart's id: only then does a discount bound to that customer apply.
    public var customerVerified: Bool {
        get { storage.fields.customerVerified }
        set { mutate { $0.customerVerified = newValue } }
    }
    public var email: String? {
        get { storage.fields.email }
        set { mutate { $0.email = newValue } }
    }
    /// E.164, given at checkout or the till: with the email, how the order finds its customer.
    public var phone: String? {
        get { storage.fields.phone }
        set { mutate { $0.phone = newValue } }
    }
    public var currency: Currency {
        get { storage.fields.currency }
        set { mutate { $0.currency = newValue } }
    }
    public var checkoutStep: String {
        get { storage.fields.checkoutStep }
        set { mutate { $0.checkoutStep = newValue } }
    }
    public var shippingAddress: Address? {
        get { storage.fields.shippingAddress }
        set { mutate { $0.shippingAddress = newValue } }
    }
    public var billingAddress: Address? {
        get { storage.fields.billingAddress }
        set { mutate { $0.billingAddress = newValue } }
    }
    /// The chosen shipping method's id.
    public var shippingMethod: String? {
        get { storage.fields.shippingMethod }
        set { mutate { $0.shippingMethod = newValue } }
    }
    public var discountCodes: [String] {
        get { storage.fields.discountCodes }
        set { mutate { $0.discountCodes = newValue } }
    }
    public var lines: [CartLine] {
        get { storage.fields.lines }
        set { mutate { $0.lines = newValue } }
    }
    public var totals: CartTotals {
        get { storage.fields.totals }
        set { mutate { $0.totals = newValue } }
    }
    /// When the reservations lapse unless the cart is written again.
    public var expiresAt: String {
        get { storage.fields.expiresAt }
        set { mutate { $0.expiresAt = newValue } }
    }
    public var createdAt: String {
        get { storage.fields.createdAt }
        set { mutate { $0.createdAt = newValue } }
    }
    public var updatedAt: String {
        get { storage.fields.updatedAt }
        set { mutate { $0.updatedAt = newValue } }
    }

    /// A cart as stored: its totals are its lines' (``unpricedTotals(of:currency:)``) until priced.
    public init(
        id: CartID, channel: Channel, status: Status, location: String?, customerID: String?, email: String?, currency: Currency,
        checkoutStep: String, shippingAddress: Address?, billingAddress: Address?, shippingMethod: String?,
        discountCodes: [String], lines: [CartLine], expiresAt: String, createdAt: String, updatedAt: String, phone: String? = nil,
        customerVerified: Bool = false
    ) {
        storage = Storage(Fields(
            id: id, channel: channel, status: status, location: location, customerID: customerID, customerVerified: customerVerified,
            email: email, phone: phone, currency: currency,
            checkoutStep: checkoutStep, shippingAddress: shippingAddress, billingAddress: billingAddress,
            shippingMethod: shippingMethod, discountCodes: discountCodes, lines: lines,
            totals: Cart.unpricedTotals(of: lines, currency: currency), expiresAt: expiresAt, createdAt: createdAt, updatedAt: updatedAt))
    }

    public init(from decoder: any Decoder) throws {
        storage = Storage(try Fields(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try storage.fields.encode(to: encoder)
    }

    public static func == (lhs: Cart, rhs: Cart) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    /// Who counts as one customer for per-customer discount limits: the customer id, else the email.
    var customerKey: String? { customerID ?? email?.lowercased() }

    /// The totals before pricing: subtotal and total are the sum of the lines, the rest zero.
    static func unpricedTotals(of lines: [CartLine], currency: Currency) -> CartTotals {
        let subtotal = Money(amount: lines.reduce(Int64(0)) { $0 + $1.lineTotal.amount }, currency: currency)
        let zero = Money(amount: 0, currency: currency)
        return CartTotals(subtotal: subtotal, discount: zero, shipping: zero, tax: zero, total: subtotal)
    }

    /// Replaces the lines and resets the totals to theirs, for pricing again.
    mutating func setLines(_ lines: [CartLine]) {
        mutate { fields in
            fields.lines = lines
            fields.totals = Cart.unpricedTotals(of: lines, currency: fields.currency)
        }
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

    public init(id: CartLineID, sku: String, title: String, quantity: Int, unitPrice: Money, lineTotal: Money, customisation: JSONValue?) {
        self.id = id
        self.sku = sku
        self.title = title
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.lineTotal = lineTotal
        self.customisation = customisation
    }

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

    public init(subtotal: Money, discount: Money, shipping: Money, tax: Money, total: Money) {
        self.subtotal = subtotal
        self.discount = discount
        self.shipping = shipping
        self.tax = tax
        self.total = total
    }
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
    /// An online cart may hold at most `max` units of one SKU (`--max-units-per-sku`).
    case tooManyUnits(sku: String, max: Int)
    /// The cart has held stock for as long as any cart may (`--max-cart-hold`): a new cart may hold it again.
    case holdEnded(id: String, maxHold: Duration)
}
