import ShopfloorDomain
import ShopfloorStorage

/// Till hand-overs in table `pos_handovers`, one per order.
struct SQLiteHandoverStore: HandoverStore {
    func insert(order: OrderID, location: LocationID, pinHash: [UInt8], expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO pos_handovers (order_id, location_id, pin_hash, expires_at_ms) VALUES (?, ?, ?, ?)",
            [.text(order.rawValue), .text(location.rawValue), .blob(pinHash), .integer(expiresAtMilliseconds)])
    }

    func open(at location: LocationID, cart: CartID?, now milliseconds: Int64, maxAttempts: Int,
              in transaction: any WriteTransaction) throws -> [(order: OrderID, pinHash: [UInt8])] {
        var sql = """
            SELECT h.order_id, h.pin_hash FROM pos_handovers h JOIN orders o ON o.id = h.order_id
            WHERE h.location_id = ? AND h.used_at IS NULL AND h.expires_at_ms > ? AND h.attempts < ?
            """
        var bindings: [SQLiteValue] = [.text(location.rawValue), .integer(milliseconds), .integer(Int64(maxAttempts))]
        if let cart {
            sql += " AND o.cart_id = ?"
            bindings.append(.text(cart.rawValue))
        }
        return try transaction.connection.query(sql, bindings).map { values in
            let row = StoredRow(values, table: "pos_handovers", keyColumn: "order_id")
            return (try row.id("order_id", as: OrderID.self), try row.blob("pin_hash"))
        }
    }

    func countFailedAttempt(order: OrderID, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE pos_handovers SET attempts = attempts + 1 WHERE order_id = ?", [.text(order.rawValue)])
    }

    func markUsed(order: OrderID, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE pos_handovers SET used_at = ? WHERE order_id = ?", [.text(at), .text(order.rawValue)])
    }
}
