import ShopfloorDomain
import ShopfloorStorage

/// Stock cover in tables `sku_sales` and `low_cover` and the products' `lead_time_days` (migration 20),
/// read beside `stock_levels`.
struct SQLiteStockCoverStore: StockCoverStore {
    let readers: ReaderPool

    func recordSales(_ sales: [(sku: String, location: String, quantity: Int)], day: String, in transaction: any WriteTransaction) throws {
        for sale in sales where sale.quantity != 0 {
            try transaction.connection.run(
                """
                INSERT INTO sku_sales (sku, location, day, quantity) VALUES (?, ?, ?, ?)
                ON CONFLICT (sku, location, day) DO UPDATE SET quantity = quantity + excluded.quantity
                """,
                [.text(sale.sku), .text(sale.location), .text(day), .integer(Int64(sale.quantity))])
        }
    }

    func cover(soldSince day: String, location: String?) throws -> [StockCoverRow] {
        try readers.read { connection in
            try connection.query(
                """
                WITH sold AS (SELECT sku, location, sum(quantity) AS n FROM sku_sales WHERE day >= ? GROUP BY sku, location)
                SELECT s.sku, l.code AS location, s.on_hand - s.reserved AS available, coalesce(sold.n, 0) AS sold, p.lead_time_days
                FROM stock_levels s
                JOIN locations l ON l.id = s.location_id
                JOIN variants v ON v.sku = s.sku
                JOIN products p ON p.seq = v.product_seq
                LEFT JOIN sold ON sold.sku = s.sku AND sold.location = l.code
                WHERE ? IS NULL OR l.code = ?
                ORDER BY s.sku, l.code
                """,
                [.text(day), .optional(location), .optional(location)]
            ).map { values in
                let row = StoredRow(values, table: "stock_levels", keyColumn: "sku")
                return StockCoverRow(sku: try row.text("sku"), location: try row.text("location"), available: try row.int("available"),
                                     sold: try row.int("sold"), leadTimeDays: try row.optionalInt("lead_time_days"))
            }
        }
    }

    func setLeadTime(_ days: Int?, of product: ProductID, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("UPDATE products SET lead_time_days = ? WHERE id = ?", [.optional(days), .text(product.rawValue)]) > 0
    }

    func lowCover(in transaction: any WriteTransaction) throws -> Set<StockCoverKey> {
        Set(try transaction.connection.query("SELECT sku, location FROM low_cover").map { values in
            let row = StoredRow(values, table: "low_cover", keyColumn: "sku")
            return StockCoverKey(sku: try row.text("sku"), location: try row.text("location"))
        })
    }

    func markLow(_ key: StockCoverKey, since: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("INSERT OR IGNORE INTO low_cover (sku, location, since) VALUES (?, ?, ?)",
                                       [.text(key.sku), .text(key.location), .text(since)])
    }

    func clearLow(_ key: StockCoverKey, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM low_cover WHERE sku = ? AND location = ?", [.text(key.sku), .text(key.location)])
    }
}
