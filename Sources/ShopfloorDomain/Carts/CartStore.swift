public import ShopfloorJSON
/// Where carts, their lines and their reservations live.
///
/// A cart's lines are read back with their variant's current title and price (a line of a variant
/// since deleted has an empty title and prices at zero); its reservations say which units it holds
/// at which location, and always add up to its lines while it is active.
public protocol CartStore: Sendable {
    // MARK: Reads, from the last commit

    /// The cart with its lines, unpriced; `nil` for no such cart.
    func cart(_ id: CartID) throws -> Cart?
    /// Carts by status (all when `nil`) in the order created, after the cart at position `after`, at
    /// most `limit`; with each, its position for the next page's cursor.
    func carts(status: Cart.Status?, after: Int64, limit: Int) throws -> [(position: Int64, cart: Cart)]
    /// The customer's carts with `status` (any without), newest first, at most `limit`.
    func carts(customer: String, status: Cart.Status?, limit: Int) throws -> [Cart]
    /// What a line write needs and did not find in memory, in one read: the cart (unless `known`),
    /// the units it holds, the variant of `sku`, and the locations it reserves from (when asked).
    func lineWriteReading(_ id: CartID, known: Cart?, variant sku: String?, locations: Bool) throws -> CartReading
    /// The units a cart holds, by SKU, each SKU's by location code.
    func held(by id: CartID) throws -> [String: [Allocation]]
    /// Units held by every cart now, and the carts holding them (for metrics).
    func reservationTotals() throws -> (carts: Int, units: Int)
    /// The locations a cart of `channel` reserves from: the till's (by code) or every one that fulfils online.
    func reservationLocations(channel: Cart.Channel, location code: String?) throws -> [Location]
    /// The cart's status and deadline in milliseconds, for the expiry check.
    func deadline(of id: CartID) throws -> (status: Cart.Status, expiresAtMilliseconds: Int64)?
    /// Every active cart's deadline, and the carts no longer active that still hold units (a crash
    /// between closing a cart and releasing its units), for recovery after a start.
    func recovery() throws -> (active: [(cart: CartID, expiresAtMilliseconds: Int64)], closedHolding: [CartID])

    // MARK: Writes, inside the writer's transaction

    /// Inserts a new, empty cart; `location` is the till's location id for a `pos` cart.
    func insert(_ cart: Cart, location: LocationID?, expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws
    /// The cart as `transaction` sees it.
    func cart(_ id: CartID, in transaction: any WriteTransaction) throws -> Cart?
    /// Appends a line after the cart's last (lines read back in the order added).
    func appendLine(_ line: CartLineID, cart: CartID, sku: String, quantity: Int, customisation: JSONValue?,
                    in transaction: any WriteTransaction) throws
    /// Sets the quantity of the cart's line of `sku` and, if given, replaces its customisation.
    func setLine(cart: CartID, sku: String, quantity: Int, customisation: JSONValue?, in transaction: any WriteTransaction) throws
    /// Deletes the cart's line of `sku`.
    func deleteLine(cart: CartID, sku: String, in transaction: any WriteTransaction) throws
    /// Moves the cart's deadline on, making it active when `activating` (an expired cart reserved again).
    func touch(_ id: CartID, expiresAt: String, expiresAtMilliseconds: Int64, updatedAt: String, activating: Bool,
               in transaction: any WriteTransaction) throws
    /// Sets the cart's status.
    func setStatus(_ id: CartID, _ status: Cart.Status, updatedAt: String, in transaction: any WriteTransaction) throws
    /// Writes the checkout details of `cart` (email, customer, addresses, shipping method, discount codes, step).
    func saveDetails(of cart: Cart, updatedAt: String, in transaction: any WriteTransaction) throws

    /// Adds units held for the cart's line of `sku`, per location.
    func addReservations(_ allocations: [Allocation], cart: CartID, sku: String, in transaction: any WriteTransaction) throws
    /// Takes units the cart held of `sku` away, per location (a location left with none has no row).
    func removeReservations(_ allocations: [Allocation], cart: CartID, sku: String, in transaction: any WriteTransaction) throws
    /// Deletes every unit the cart holds of `sku`; `held` names the locations it is known to hold them at.
    func deleteReservations(cart: CartID, sku: String, held: [Allocation], in transaction: any WriteTransaction) throws
    /// Deletes every unit the cart holds.
    func deleteReservations(cart: CartID, in transaction: any WriteTransaction) throws
}

/// What ``CartStore/lineWriteReading(_:known:variant:locations:)`` found.
public struct CartReading: Sendable {
    /// The cart, `nil` if there is none.
    public var cart: Cart?
    /// The units the cart holds (empty when the cart was `known`).
    public var held: [String: [Allocation]]
    /// The variant asked for; `nil` when none was, or no variant has the SKU.
    public var variant: CartVariant?
    /// The locations the cart reserves from, when asked for and the cart exists.
    public var locations: [Location]?

    public init(cart: Cart?, held: [String: [Allocation]], variant: CartVariant?, locations: [Location]?) {
        self.cart = cart
        self.held = held
        self.variant = variant
        self.locations = locations
    }
}

/// What a cart line is made from: its variant's title, price and whether its product is for sale.
public struct CartVariant: Sendable {
    public var title: String
    public var price: Int64
    public var currency: String
    public var active: Bool

    public init(title: String, price: Int64, currency: String, active: Bool) {
        self.title = title
        self.price = price
        self.currency = currency
        self.active = active
    }

    /// A line's title: the product's, then the variant's, joined by a dash when both are set.
    public static func title(product: String?, variant: String?) -> String {
        [product, variant].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " — ")
    }
}
