/// Replenishment in storage: products' intervals, what each customer bought of them, what they put off
/// or wished for, proposals, and the weekly runs with how far each has gone.
public protocol ReplenishmentStore: Sendable {
    /// Sets a product's replenishment interval (`nil`: it takes no part); `false` for no such product.
    func setInterval(_ days: Int?, of product: ProductID, in transaction: any WriteTransaction) throws -> Bool
    /// Every SKU of a product with an interval, with what a proposal shows of it.
    func replenishable() throws -> [String: ReplenishableSKU]
    /// The next `limit` customers after `afterSeq` (erased ones aside), in order, with their purchases
    /// of `skus`, what they put off, and whether a proposal of a run started after `runsSince` is still
    /// open for them at `now`; how many customers were read, and the last one (`nil` when none was left).
    func purchases(afterCustomer afterSeq: Int64, limit: Int, of skus: Set<String>, runsSince: String, now: String) throws
        -> (customers: [ReplenishmentCustomer], read: Int, last: Int64?)

    /// Inserts a weekly run's proposal for the customer at `customerSeq` (the order the run goes in);
    /// `false` when the run made them one already.
    func insert(_ proposal: Proposal, customerSeq: Int64, in transaction: any WriteTransaction) throws -> Bool
    func update(_ proposal: Proposal, in transaction: any WriteTransaction) throws
    func proposal(_ id: ProposalID) throws -> Proposal?
    func proposal(_ id: ProposalID, in transaction: any WriteTransaction) throws -> Proposal?
    /// Puts the customer's SKUs off until `until` (`YYYY-MM-DDTHH:MM:SSZ`), each with where it stands on
    /// their wishlist.
    func putOff(customer: CustomerID, skus: [String: Wish], until: String, in transaction: any WriteTransaction) throws
    /// The SKUs on any wishlist.
    func wishedSKUs() throws -> Set<String>
    /// Marks the wishes for `sku` made while it was in stock as having seen it sell out.
    func soldOut(_ sku: String, in transaction: any WriteTransaction) throws
    /// Takes `sku` off the wishlists that saw it sell out (erased customers aside), returning who wished
    /// for it and what it is; `nil` when no one did. Their items stay put off as they were.
    func takeWishes(for sku: String, in transaction: any WriteTransaction) throws -> Wishes?
    /// Proposals by status as of `now` (open ones past their expiry count as expired), and the total
    /// of the orders confirmed ones became.
    func report(at now: String) throws -> (counts: [ProposalStatus: Int], confirmedRevenue: Int64)

    /// Starts the run `key` unless it exists; `false` when it did.
    func startRun(_ key: String, at: String, in transaction: any WriteTransaction) throws -> Bool
    /// Runs started and not finished.
    func unfinishedRuns() throws -> [ReplenishmentRun]
    func saveRun(_ run: ReplenishmentRun, in transaction: any WriteTransaction) throws
}

/// One customer's purchases of products that have a replenishment interval.
public struct ReplenishmentCustomer: Sendable, Equatable {
    public var seq: Int64
    public var id: CustomerID
    public var items: [ReplenishmentSKU]
    /// A proposal of an earlier run waits for their answer still.
    public var hasOpenProposal: Bool

    public init(seq: Int64, id: CustomerID, items: [ReplenishmentSKU], hasOpenProposal: Bool = false) {
        self.seq = seq
        self.id = id
        self.items = items
        self.hasOpenProposal = hasOpenProposal
    }
}

/// One SKU a customer bought of a product with an interval: when and how many, and until when they
/// put it off.
public struct ReplenishmentSKU: Sendable, Equatable {
    public var sku: String
    public var purchases: [ReplenishmentPlan.Purchase]
    /// Put off until then by the customer.
    public var snoozedUntil: String?

    public init(sku: String, purchases: [ReplenishmentPlan.Purchase], snoozedUntil: String?) {
        self.sku = sku
        self.purchases = purchases
        self.snoozedUntil = snoozedUntil
    }
}

/// Where a SKU stands on a customer's wishlist: its back-in-stock reminder goes when it is available
/// again after having been sold out since it was wished for.
public enum Wish: Int, Sendable {
    /// Not on the wishlist.
    case none = 0
    /// Wished for while in stock: waits for it to sell out and come back.
    case inStock = 1
    /// Wished for while sold out, or sold out since: reminded when it is available.
    case soldOut = 2
}

/// A SKU back in stock and the customers who had it on their wishlists.
public struct Wishes: Sendable, Equatable {
    public var product: ProductID
    /// The product's title with the variant's.
    public var title: String
    public var customers: [CustomerID]

    public init(product: ProductID, title: String, customers: [CustomerID]) {
        self.product = product
        self.title = title
        self.customers = customers
    }
}

/// A SKU of a product with a replenishment interval, as a proposal shows it.
public struct ReplenishableSKU: Sendable, Equatable {
    public var title: String
    public var price: Money
    public var intervalDays: Int
    /// The product can be sold now.
    public var active: Bool

    public init(title: String, price: Money, intervalDays: Int, active: Bool) {
        self.title = title
        self.price = price
        self.intervalDays = intervalDays
        self.active = active
    }
}

/// A weekly run: when it is for, how far through the customers it is, what it made.
public struct ReplenishmentRun: Sendable, Equatable {
    public var key: String
    public var cursor: Int64
    public var proposals: Int
    public var customers: Int
    public var startedAt: String
    public var finishedAt: String?

    public init(key: String, cursor: Int64, proposals: Int, customers: Int, startedAt: String, finishedAt: String?) {
        self.key = key
        self.cursor = cursor
        self.proposals = proposals
        self.customers = customers
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}
