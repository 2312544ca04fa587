public import ShopfloorStorage

/// The one place that changes a SKU's numbers (`on_hand`, `reserved`) at a location.
///
/// Every change, from an adjustment, a stocktake or (later) a cart reservation, is applied here
/// inside the caller's write transaction: it checks `0 ≤ reserved ≤ on_hand`, records a movement
/// when on-hand changes, and appends `stock.changed` (and `stock.low` when online availability falls to
/// the SKU's threshold). The live cart puts one actor per SKU in front of this to linearise callers.
public enum StockLedger {
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

    /// What every change of a SKU starts from: its level, its low-stock threshold, the codes of the
    /// locations that have a row for it and of those that fulfil online, read in one query
    /// (``snapshot(_:_:)``). The writer's transaction memo keeps it as the last change left it, so the
    /// next change of the SKU in the same batch reads nothing (one join a SKU per batch rather than per
    /// reservation: 6 % of the writer's CPU on a hot SKU). Its numbers change only here; the rest comes
    /// from the tables it depends on, whose changes drop it.
    private struct Snapshot: Sendable {
        var level: InventoryLevel
        var threshold: Int?
        var stored: Set<String>
        var online: Set<String>

        /// One constant, so both uses name the same address (the memo tells namespaces apart by it).
        static let namespace: StaticString = "stock-level"
        /// Where the locations and the threshold come from; a product's deletion takes its SKUs' levels.
        static let tables: [StaticString] = ["locations", "variants", "products"]
    }

    /// Applies `change` and returns the SKU's level afterwards.
    @discardableResult
    public static func apply(_ change: Change, _ connection: SQLiteConnection) throws -> InventoryLevel {
        guard var snapshot = try connection.memo(Snapshot.namespace, change.sku, as: Snapshot.self) ?? snapshot(change.sku, connection) else {
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
        let values: [SQLiteValue] = [.integer(Int64(newOnHand)), .integer(Int64(newReserved)), .text(change.sku), .text(change.location.id.rawValue)]
        // A row that exists is updated in place: an upsert would first try the insert and meet the key.
        if snapshot.stored.contains(change.location.code) {
            try connection.run("UPDATE stock_levels SET on_hand = ?1, reserved = ?2 WHERE sku = ?3 AND location_id = ?4", values)
        } else {
            try connection.run("INSERT INTO stock_levels (on_hand, reserved, sku, location_id) VALUES (?1, ?2, ?3, ?4)", values)
        }
        if change.onHandDelta != 0 {
            try connection.run(
                """
                INSERT INTO stock_movements (sku, location_id, reason, delta, on_hand_before, on_hand_after, actor, note, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(change.sku), .text(change.location.id.rawValue), .text(change.reason), .integer(Int64(change.onHandDelta)),
                 .integer(Int64(onHand)), .integer(Int64(newOnHand)), .text(change.actor), .optional(change.note), .text(Timestamp.now)])
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
        try EventLog.append(
            connection, type: "stock.changed", topic: topic,
            data: StockChanged(sku: change.sku, available: after.available, onHand: after.onHand, reserved: after.reserved, location: change.location.code))
        if let threshold = snapshot.threshold, before.available > threshold, after.available <= threshold {
            try EventLog.append(
                connection, type: "stock.low", topic: topic,
                data: StockChanged(sku: change.sku, available: after.available, onHand: after.onHand, reserved: after.reserved, location: change.location.code))
        }
        if index != nil {
            snapshot.level = after
            if !snapshot.stored.contains(change.location.code) { snapshot.stored.insert(change.location.code) }
            connection.memoize(snapshot, Snapshot.namespace, change.sku, dependsOn: Snapshot.tables)
        }
        return after
    }

    /// The SKU's level now, over every location (locations without a row show as zero).
    public static func level(_ sku: String, _ connection: SQLiteConnection) throws -> InventoryLevel {
        var level = InventoryLevel(sku: sku, onHand: 0, reserved: 0, available: 0, locations: [])
        try connection.forEachRow(
            """
            SELECT l.code, l.fulfils_online, s.on_hand, s.reserved
            FROM locations l LEFT JOIN stock_levels s ON s.location_id = l.id AND s.sku = ? ORDER BY l.created_at, l.code
            """, [.text(sku)]
        ) { row in add(row, to: &level) }
        return level
    }

    /// The SKU's ``Snapshot`` from the store; `nil` for a SKU no variant has. Read by column index: this
    /// runs on the writer thread for the first change of every SKU in a batch.
    private static func snapshot(_ sku: String, _ connection: SQLiteConnection) throws -> Snapshot? {
        var snapshot = Snapshot(level: InventoryLevel(sku: sku, onHand: 0, reserved: 0, available: 0, locations: []),
                                threshold: nil, stored: [], online: [])
        var found = false
        try connection.forEachRow(
            """
            SELECT l.code, l.fulfils_online, s.on_hand, s.reserved, v.low_stock_threshold
            FROM variants v CROSS JOIN locations l LEFT JOIN stock_levels s ON s.location_id = l.id AND s.sku = v.sku
            WHERE v.sku = ? ORDER BY l.created_at, l.code
            """, [.text(sku)]
        ) { row in
            found = true
            if !row.isNull(2) { snapshot.stored.insert(row.text(0)) }
            if row.int(1) == 1 { snapshot.online.insert(row.text(0)) }
            add(row, to: &snapshot.level)
            snapshot.threshold = row.isNull(4) ? nil : row.int(4)
        }
        return found ? snapshot : nil
    }

    /// Adds one location's row (code, fulfils online, on hand, reserved; NULL numbers for a location
    /// without a row, read as zero) to `level`.
    private static func add(_ row: SQLiteStatement, to level: inout InventoryLevel) {
        let onHand = row.int(2)
        let reserved = row.int(3)
        level.onHand += onHand
        level.reserved += reserved
        if row.int(1) == 1 { level.available += onHand - reserved }
        level.locations.append(LocationLevel(location: row.text(0), onHand: onHand, reserved: reserved, available: onHand - reserved))
    }
}
