/// Where the pricing rules live: tax rates, shipping methods, discounts (with their use counts) and
/// the shop's settings, and the record of which customer used which discount.
public protocol PricingStore: Sendable {
    /// Every rule, as one consistent snapshot; issued codes are not in it.
    func rules() throws -> PricingRules
    func insert(_ rate: TaxRate, in transaction: any WriteTransaction) throws
    /// `collectLocation` is the location of a collect-in-store method.
    func insert(_ method: ShippingMethod, collectLocation: LocationID?, in transaction: any WriteTransaction) throws
    func insert(_ discount: Discount, in transaction: any WriteTransaction) throws
    /// Stores a code issued for `source` (an order's receipt): found by ``issuedDiscount(code:)``, not in ``rules()``.
    func insertIssued(_ discount: Discount, for source: String, in transaction: any WriteTransaction) throws
    /// The issued code `code` (letter case aside), with its current use count.
    func issuedDiscount(code: String) throws -> Discount?
    func disable(_ discount: DiscountID, in transaction: any WriteTransaction) throws
    func save(_ settings: ShopSettings, in transaction: any WriteTransaction) throws
    /// How many orders of the customer with this key used the discount.
    func uses(of discount: DiscountID, byCustomer key: String) throws -> Int
    /// Counts a use of the discount by an order (and its customer's key, if any) unless its `max_uses`
    /// is reached; `false` when it is.
    func recordUse(of discount: DiscountID, order: OrderID, customer key: String?, in transaction: any WriteTransaction) throws -> Bool
}
