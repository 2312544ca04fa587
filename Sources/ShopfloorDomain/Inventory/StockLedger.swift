/// The one place that changes a SKU's numbers (`on_hand`, `reserved`) at a location.
///
/// Every change, from an adjustment, a stocktake or a cart reservation, is applied here inside the
/// caller's write transaction: it checks `0 ≤ reserved ≤ on_hand`, records a movement when on-hand
/// changes, and appends `stock.changed` (and `stock.low` when online availability falls to the SKU's
/// threshold). The live cart puts one actor per SKU in front of this to linearise callers.
public final class StockLedger: Sendable {
    /// A change to apply.
    public struct Change: Sendable {
        public var sku: String
        public var location: Location
        public var onHandDelta: Int
        public var reservedDelta: Int
        /// Recorded on the movement when `onHandDelta` is not zero.
        public var reason: String
        public var actor: String
        public var note: String?

        public init(sku: String, location: Location, onHandDelta: Int, reservedDelta: Int = 0, reason: String, actor: String, note: String? = nil) {
            self.sku = sku
            self.location = location
            self.onHandDelta = onHandDelta
            self.reservedDelta = reservedDelta
            self.reason = reason
            self.actor = actor
            self.note = note
        }
    }

    let store: any StockStore
    let events: EventLog
    let clock: any WallClock

    public init(store: any StockStore, events: EventLog, clock: any WallClock = SystemClock()) {
        self.store = store
        self.events = events
        self.clock = clock
    }

    /// Applies `change` and returns the SKU's level afterwards.
    ///
    /// Starts from the SKU's ``StockSnapshot`` and leaves it, as this change leaves it, with the store
    /// (``StockStore/keep(_:in:)``): the next change of the SKU in the same batch then reads nothing (one
    /// join a SKU per batch rather than per reservation: 6 % of the writer's CPU on a hot SKU).
    @discardableResult
    public func apply(_ change: Change, in transaction: any WriteTransaction) throws -> InventoryLevel {
        guard var snapshot = try store.snapshot(of: change.sku, in: transaction) else {
            throw InventoryError.unknownSKU(change.sku)
        }
        let before = snapshot.level
        guard change.onHandDelta != 0 || change.reservedDelta != 0 else { return before }
        let index = before.locations.firstIndex { $0.location == change.location.code }
        let onHand = index.map { before.locations[$0].onHand } ?? 0
        let reserved = index.map { before.locations[$0].reserved } ?? 0
        let newOnHand = onHand + change.onHandDelta
        let newReserved = reserved + change.reservedDelta
        guard newReserved >= 0, newOnHand >= newReserved else {
            throw InventoryError.belowReserved(sku: change.sku, location: change.location.code, reserved: newReserved, onHand: newOnHand)
        }
        try store.setCount(StockCount(onHand: newOnHand, reserved: newReserved), sku: change.sku, location: change.location.id,
                           exists: snapshot.stored.contains(change.location.code), in: transaction)
        if change.onHandDelta != 0 {
            try store.recordMovement(
                StockMovementRecord(sku: change.sku, location: change.location.id, reason: change.reason, delta: change.onHandDelta,
                                    onHandBefore: onHand, onHandAfter: newOnHand, actor: change.actor, note: change.note, at: clock.timestamp),
                in: transaction)
        }
        var after = before
        after.onHand += change.onHandDelta
        after.reserved += change.reservedDelta
        // The location's flag as this transaction reads it, not as the caller last heard of it.
        if snapshot.online.contains(change.location.code) { after.available += change.onHandDelta - change.reservedDelta }
        if let index {
            after.locations[index] = LocationLevel(location: change.location.code, onHand: newOnHand, reserved: newReserved, available: newOnHand - newReserved)
        }
        let topic = "stock:\(change.sku)"
        let payload = StockChanged(sku: change.sku, available: after.available, onHand: after.onHand, reserved: after.reserved, location: change.location.code)
        try events.append(type: "stock.changed", topic: topic, data: payload, in: transaction)
        if let threshold = snapshot.threshold, before.available > threshold, after.available <= threshold {
            try events.append(type: "stock.low", topic: topic, data: payload, in: transaction)
        }
        if index != nil {
            snapshot.level = after
            snapshot.stored.insert(change.location.code)
            store.keep(snapshot, in: transaction)
        }
        return after
    }
}
