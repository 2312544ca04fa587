/// Where stock levels and their movements live: per SKU and location, `on_hand` and `reserved`, which
/// the store itself keeps within `0 ≤ reserved ≤ on_hand`.
public protocol StockStore: Sendable {
    /// The SKU's stored numbers by location id (locations without a row are absent), for its actor.
    func counts(of sku: String) throws -> [LocationID: StockCount]

    /// What every change of a SKU starts from, as `transaction` sees it; `nil` for a SKU no variant has.
    /// A backend may serve it from what ``keep(_:in:)`` left in this transaction.
    func snapshot(of sku: String, in transaction: any WriteTransaction) throws -> StockSnapshot?
    /// Leaves `snapshot`, as the last change left it, for the next ``snapshot(of:in:)`` of its SKU in
    /// this transaction; the backend drops it when the transaction ends or a row it is made from
    /// (a location, the variant) changes. A backend that keeps nothing reads again.
    func keep(_ snapshot: StockSnapshot, in transaction: any WriteTransaction)

    /// Writes the SKU's numbers at a location; `exists` says whether it has a row there already.
    func setCount(_ count: StockCount, sku: String, location: LocationID, exists: Bool, in transaction: any WriteTransaction) throws
    /// Records a change of on-hand units.
    func recordMovement(_ movement: StockMovementRecord, in transaction: any WriteTransaction) throws

    /// The SKU's level over every location (those without a row as zero), from the last commit.
    func level(of sku: String) throws -> InventoryLevel
    /// The same, as `transaction` sees it.
    func level(of sku: String, in transaction: any WriteTransaction) throws -> InventoryLevel
    /// Whether a variant has this SKU.
    func skuExists(_ sku: String) throws -> Bool
    /// Movements of a SKU with an id below `before`, newest first, at most `limit`.
    func movements(of sku: String, before: Int64, limit: Int) throws -> [StockMovement]
}

/// A SKU's numbers at one location.
public struct StockCount: Sendable, Equatable {
    public var onHand: Int
    public var reserved: Int

    public init(onHand: Int, reserved: Int) {
        self.onHand = onHand
        self.reserved = reserved
    }

    public var free: Int { onHand - reserved }
}

/// What every change of a SKU starts from: its level, its low-stock threshold, the codes of the
/// locations that have a row for it and of those that fulfil online.
public struct StockSnapshot: Sendable {
    public var level: InventoryLevel
    public var threshold: Int?
    public var stored: Set<String>
    public var online: Set<String>

    public init(level: InventoryLevel, threshold: Int?, stored: Set<String>, online: Set<String>) {
        self.level = level
        self.threshold = threshold
        self.stored = stored
        self.online = online
    }
}

/// A movement of on-hand units as it is recorded.
public struct StockMovementRecord: Sendable {
    public var sku: String
    public var location: LocationID
    public var reason: String
    public var delta: Int
    public var onHandBefore: Int
    public var onHandAfter: Int
    public var actor: String
    public var note: String?
    public var at: String

    public init(sku: String, location: LocationID, reason: String, delta: Int, onHandBefore: Int, onHandAfter: Int,
                actor: String, note: String?, at: String) {
        self.sku = sku
        self.location = location
        self.reason = reason
        self.delta = delta
        self.onHandBefore = onHandBefore
        self.onHandAfter = onHandAfter
        self.actor = actor
        self.note = note
        self.at = at
    }
}
