import Foundation
public import ShopfloorStorage

/// Stock levels per SKU and location: read them, adjust them with a reason, count them.
public struct InventoryService: Sendable {
    private let database: Database
    private let stock: StockRegistry

    public init(database: Database, stock: StockRegistry) {
        self.database = database
        self.stock = stock
    }

    public func level(_ sku: String) throws -> InventoryLevel {
        try database.readers.read { connection in
            try Self.requireSKU(sku, connection)
            return try StockLedger.level(sku, connection)
        }
    }

    /// Adds `delta` units (negative removes) at `location`, through the SKU's actor. With an idempotency
    /// key, a repeat returns the first result and changes nothing; the key is recorded in the same
    /// transaction as the change.
    public func adjust(sku: String, location: Location, delta: Int, reason: AdjustmentReason, actor: String, note: String?,
                       idempotencyKey: String? = nil) async throws -> InventoryLevel {
        var validator = Validator()
        validator.check(delta != 0 && (-1_000_000...1_000_000).contains(delta), "delta", "must be a non-zero whole number from -1000000 to 1000000")
        validator.text(note, "note", max: 500, required: false)
        try validator.throwIfAny()
        let scope = "adjust:\(actor):\(sku)"
        if let key = idempotencyKey, let stored: InventoryLevel = try remembered(key, scope: scope) { return stored }
        try database.readers.read { connection in try Self.requireSKU(sku, connection) }
        do {
            return try await stock.withStock(sku) { stock in
                try await stock.adjust(delta, at: location, reason: reason.rawValue, actor: actor, note: note) { connection in
                    let level = try StockLedger.level(sku, connection)
                    if let key = idempotencyKey { try Self.remember(level, key: key, scope: scope, connection) }
                    return level
                }
            }
        } catch let error as SQLiteError where error.isUniqueViolation {
            // The same key raced in from another request: answer with what that one stored.
            guard let key = idempotencyKey, let stored: InventoryLevel = try remembered(key, scope: scope) else { throw error }
            return stored
        }
    }

    /// Sets the counted units at `location` (a stocktake), recorded as a movement of the difference.
    public func setLevel(sku: String, location: Location, onHand: Int, actor: String) async throws -> InventoryLevel {
        var validator = Validator()
        validator.check((0...100_000_000).contains(onHand), "on_hand", "must be a whole number from 0 to 100000000")
        try validator.throwIfAny()
        try database.readers.read { connection in try Self.requireSKU(sku, connection) }
        return try await stock.withStock(sku) { stock in
            try await stock.count(onHand, at: location, actor: actor) { connection in try StockLedger.level(sku, connection) }
        }
    }

    private static func requireSKU(_ sku: String, _ connection: SQLiteConnection) throws {
        guard try !connection.query("SELECT 1 FROM variants WHERE sku = ?", [.text(sku)]).isEmpty else {
            throw InventoryError.unknownSKU(sku)
        }
    }

    private func remembered<T: Decodable>(_ key: String, scope: String) throws -> T? {
        try database.readers.read { connection in
            guard case .blob(let stored)? = try connection.query(
                "SELECT body FROM idempotency_keys WHERE scope = ? AND key = ?", [.text(scope), .text(key)]).first?["body"]
            else { return nil }
            return try JSONCoding.decode(T.self, from: stored)
        }
    }

    private static func remember<T: Encodable>(_ result: T, key: String, scope: String, _ connection: SQLiteConnection) throws {
        try connection.run(
            "INSERT INTO idempotency_keys (key, scope, status, body, created_at) VALUES (?, ?, 200, ?, ?)",
            [.text(key), .text(scope), .blob(try JSONCoding.encode(result)), .text(Timestamp.now)])
    }

    /// Movements of a SKU, newest first, paged by movement id.
    public func movements(sku: String, before: Int64?, limit: Int) throws -> Page<StockMovement> {
        try database.readers.read { connection in
            guard try !connection.query("SELECT 1 FROM variants WHERE sku = ?", [.text(sku)]).isEmpty else {
                throw InventoryError.unknownSKU(sku)
            }
            let limit = max(1, min(limit, 200))
            let rows = try connection.query(
                """
                SELECT m.*, l.code AS location FROM stock_movements m JOIN locations l ON l.id = m.location_id
                WHERE m.sku = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?
                """, [.text(sku), .integer(before ?? Int64.max), .integer(Int64(limit + 1))])
            let movements = rows.prefix(limit).map { row in
                StockMovement(
                    id: Int64(row["id"]?.int ?? 0), sku: sku, location: row["location"]?.string ?? "",
                    reason: row["reason"]?.string ?? "", delta: row["delta"]?.int ?? 0,
                    onHandBefore: row["on_hand_before"]?.int ?? 0, onHandAfter: row["on_hand_after"]?.int ?? 0,
                    actor: row["actor"]?.string ?? "", note: row["note"]?.string, at: row["at"]?.string ?? "")
            }
            let next = rows.count > limit ? movements.last.map { ProductQuery.Cursor.after(seq: $0.id).token } : nil
            return Page(items: movements, nextCursor: next)
        }
    }
}
