/// What stock cover reads and keeps: units sold per SKU, location and day, products' lead times, and
/// which SKUs at which locations are below their lead time.
public protocol StockCoverStore: Sendable {
    /// Adds units sold (negative: given back by a cancelled order) on `day` (`YYYY-MM-DD`).
    func recordSales(_ sales: [(sku: String, location: String, quantity: Int)], day: String, in transaction: any WriteTransaction) throws
    /// Every SKU at every location (of `location` alone, if given) with its available units, the units
    /// sold there since `day`, and its product's lead time.
    func cover(soldSince day: String, location: String?) throws -> [StockCoverRow]
    /// Sets a product's lead time (`nil`: the default); `false` when there is no such product.
    func setLeadTime(_ days: Int?, of product: ProductID, in transaction: any WriteTransaction) throws -> Bool
    /// The SKU and location pairs marked below their lead time.
    func lowCover(in transaction: any WriteTransaction) throws -> Set<StockCoverKey>
    func markLow(_ key: StockCoverKey, since: String, in transaction: any WriteTransaction) throws
    func clearLow(_ key: StockCoverKey, in transaction: any WriteTransaction) throws
}

/// A SKU at a location.
public struct StockCoverKey: Hashable, Sendable {
    public var sku: String
    public var location: String

    public init(sku: String, location: String) {
        self.sku = sku
        self.location = location
    }
}

/// One SKU at one location as stored.
public struct StockCoverRow: Sendable, Equatable {
    public var sku: String
    public var location: String
    public var available: Int
    public var sold: Int
    public var leadTimeDays: Int?

    public init(sku: String, location: String, available: Int, sold: Int, leadTimeDays: Int?) {
        self.sku = sku
        self.location = location
        self.available = available
        self.sold = sold
        self.leadTimeDays = leadTimeDays
    }
}
