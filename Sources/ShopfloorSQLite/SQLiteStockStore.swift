import ShopfloorDomain
import ShopfloorStorage

/// Stock in tables `stock_levels` (one row per SKU and location that has held stock; its `CHECK`
/// keeps `0 ≤ reserved ≤ on_hand`) and `stock_movements`.
struct SQLiteStockStore: StockStore {
    let readers: ReaderPool

    /// The memo's key for a SKU's snapshot, one constant so every use names the same address (the memo
    /// tells namespaces apart by it).
    private static let snapshotMemo: StaticString = "stock-level"
    /// Where a snapshot's locations and threshold come from; a product's deletion takes its SKUs' levels.
    private static let snapshotTables: [StaticString] = ["locations", "variants", "products"]

    func counts(of sku: String) throws -> [LocationID: StockCount] {
        try readers.read { connection in
            var counts: [LocationID: StockCount] = [:]
            for values in try connection.query("SELECT location_id, on_hand, reserved FROM stock_levels WHERE sku = ?", [.text(sku)]) {
                let row = StoredRow(values, table: "stock_levels", keyColumn: "location_id")
                counts[try row.id("location_id", as: LocationID.self)] = StockCount(onHand: try row.int("on_hand"), reserved: try row.int("reserved"))
            }
            return counts
        }
    }

    /// Read by column index: this runs on the writer thread for the first change of every SKU in a batch.
    func snapshot(of sku: String, in transaction: any WriteTransaction) throws -> StockSnapshot? {
        let connection = transaction.connection
        if let kept = connection.memo(Self.snapshotMemo, sku, as: StockSnapshot.self) { return kept }
        var snapshot = StockSnapshot(level: InventoryLevel(sku: sku, onHand: 0, reserved: 0, available: 0, locations: []),
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
            Self.add(row, to: &snapshot.level)
            snapshot.threshold = row.isNull(4) ? nil : row.int(4)
        }
        return found ? snapshot : nil
    }

    func keep(_ snapshot: StockSnapshot, in transaction: any WriteTransaction) {
        transaction.connection.memoize(snapshot, Self.snapshotMemo, snapshot.level.sku, dependsOn: Self.snapshotTables)
    }

    func setCount(_ count: StockCount, sku: String, location: LocationID, exists: Bool, in transaction: any WriteTransaction) throws {
        let values: [SQLiteValue] = [.integer(Int64(count.onHand)), .integer(Int64(count.reserved)), .text(sku), .text(location.rawValue)]
        // A row that exists is updated in place: an upsert would first try the insert and meet the key.
        if exists {
            try transaction.connection.run("UPDATE stock_levels SET on_hand = ?1, reserved = ?2 WHERE sku = ?3 AND location_id = ?4", values)
        } else {
            try transaction.connection.run("INSERT INTO stock_levels (on_hand, reserved, sku, location_id) VALUES (?1, ?2, ?3, ?4)", values)
        }
    }

    func recordMovement(_ movement: StockMovementRecord, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO stock_movements (sku, location_id, reason, delta, on_hand_before, on_hand_after, actor, note, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(movement.sku), .text(movement.location.rawValue), .text(movement.reason), .integer(Int64(movement.delta)),
             .integer(Int64(movement.onHandBefore)), .integer(Int64(movement.onHandAfter)), .text(movement.actor),
             .optional(movement.note), .text(movement.at)])
    }

    func level(of sku: String) throws -> InventoryLevel {
        try readers.read { connection in try Self.level(of: sku, connection) }
    }

    func level(of sku: String, in transaction: any WriteTransaction) throws -> InventoryLevel {
        try Self.level(of: sku, transaction.connection)
    }

    static func level(of sku: String, _ connection: SQLiteConnection) throws -> InventoryLevel {
        var level = InventoryLevel(sku: sku, onHand: 0, reserved: 0, available: 0, locations: [])
        try connection.forEachRow(
            """
            SELECT l.code, l.fulfils_online, s.on_hand, s.reserved
            FROM locations l LEFT JOIN stock_levels s ON s.location_id = l.id AND s.sku = ? ORDER BY l.created_at, l.code
            """, [.text(sku)]
        ) { row in add(row, to: &level) }
        return level
    }

    func skuExists(_ sku: String) throws -> Bool {
        try readers.read { connection in try !connection.query("SELECT 1 FROM variants WHERE sku = ?", [.text(sku)]).isEmpty }
    }

    func movements(of sku: String, before: Int64, limit: Int) throws -> [StockMovement] {
        try readers.read { connection in
            try connection.query(
                """
                SELECT m.*, l.code AS location FROM stock_movements m JOIN locations l ON l.id = m.location_id
                WHERE m.sku = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?
                """, [.text(sku), .integer(before), .integer(Int64(limit))]
            ).map { values in
                let row = StoredRow(values, table: "stock_movements", keyColumn: "id")
                return StockMovement(
                    id: try row.int64("id"), sku: sku, location: try row.text("location"), reason: try row.text("reason"),
                    delta: try row.int("delta"), onHandBefore: try row.int("on_hand_before"), onHandAfter: try row.int("on_hand_after"),
                    actor: try row.text("actor"), note: try row.optionalText("note"), at: try row.text("at"))
            }
        }
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
