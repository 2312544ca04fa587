import ShopfloorDomain
import ShopfloorStorage

/// Products in tables `products` (position `seq`, the rowid) and `variants` (SKU and barcode unique).
/// Text search is the domain's in-memory index, loaded from ``searchDocuments(after:limit:)``.
struct SQLiteCatalogueStore: CatalogueStore {
    let readers: ReaderPool

    // MARK: Reads

    func product(_ id: ProductID) throws -> Product? {
        try readers.read { connection in
            guard let seq = try Self.seq(of: id, connection) else { return nil }
            return try Self.load(seqs: [seq], connection).first
        }
    }

    func products(at positions: [Int64]) throws -> [Product] {
        try readers.read { connection in try Self.load(seqs: positions, connection) }
    }

    func list(_ query: ProductQuery, limit: Int) throws -> (hits: [ProductHit], more: Bool) {
        try readers.read { connection in
            var conditions: [String] = []
            var bindings: [SQLiteValue] = []
            if let category = query.category { conditions.append("p.category = ?"); bindings.append(.text(category)) }
            if let status = query.status { conditions.append("p.status = ?"); bindings.append(.text(status.rawValue)) }
            if let tag = query.tag {
                conditions.append("EXISTS (SELECT 1 FROM json_each(p.tags) WHERE json_each.value = ?)")
                bindings.append(.text(tag))
            }
            if let barcode = query.barcode {
                conditions.append("EXISTS (SELECT 1 FROM variants v WHERE v.product_seq = p.seq AND v.barcode = ?)")
                bindings.append(.text(barcode))
            }
            if query.inStock {
                conditions.append("""
                    EXISTS (SELECT 1 FROM variants v JOIN stock_levels s ON s.sku = v.sku
                    JOIN locations l ON l.id = s.location_id AND l.fulfils_online = 1
                    WHERE v.product_seq = p.seq AND s.on_hand > s.reserved)
                    """)
            }
            if case .after(let seq) = query.cursor { conditions.append("p.seq > ?"); bindings.append(.integer(seq)) }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try connection.query(
                "SELECT p.seq, p.id FROM products p \(filter) ORDER BY p.seq LIMIT ?", bindings + [.integer(Int64(limit + 1))])
            let hits = try rows.map { values in
                let row = StoredRow(values, table: "products", keyColumn: "id")
                return ProductHit(seq: try row.int64("seq"), id: try row.text("id"))
            }
            return (Array(hits.prefix(limit)), hits.count > limit)
        }
    }

    func searchDocuments(after seq: Int64, limit: Int) throws -> [ProductSearchDocument] {
        try readers.read { connection in
            try connection.query(
                """
                SELECT p.seq, p.id, p.title, p.description, p.category, p.tags, p.status,
                    (SELECT json_group_array(v.sku) FROM variants v WHERE v.product_seq = p.seq) AS skus
                FROM products p WHERE p.seq > ? ORDER BY p.seq LIMIT ?
                """, [.integer(seq), .integer(Int64(limit))]
            ).map { values in
                let row = StoredRow(values, table: "products", keyColumn: "id")
                return ProductSearchDocument(
                    seq: try row.int64("seq"), id: try row.text("id"), title: try row.text("title"), description: try row.optionalText("description"),
                    category: try row.optionalText("category"), tags: try row.strings("tags"),
                    status: try row.value("status", as: Product.Status.self), skus: try row.strings("skus"))
            }
        }
    }

    func productUsing(barcode: String) throws -> Int64? {
        try readers.read { connection in
            try connection.query("SELECT sku, product_seq FROM variants WHERE barcode = ?", [.text(barcode)]).first.map { values in
                try StoredRow(values, table: "variants", keyColumn: "sku").int64("product_seq")
            }
        }
    }

    func inStock(_ seqs: [Int64]) throws -> Set<Int64> {
        try readers.read { connection in
            var found = Set<Int64>()
            // In slices, well under SQLite's limit on bound values.
            for start in stride(from: 0, to: seqs.count, by: 500) {
                let slice = seqs[start..<min(start + 500, seqs.count)]
                let rows = try connection.query(
                    """
                    SELECT DISTINCT v.product_seq FROM variants v JOIN stock_levels s ON s.sku = v.sku
                    JOIN locations l ON l.id = s.location_id AND l.fulfils_online = 1
                    WHERE v.product_seq IN (\(Array(repeating: "?", count: slice.count).joined(separator: ","))) AND s.on_hand > s.reserved
                    """, slice.map { .integer($0) })
                for values in rows { found.insert(try StoredRow(values, table: "variants", keyColumn: "product_seq").int64("product_seq")) }
            }
            return found
        }
    }

    // MARK: Writes

    func product(_ id: ProductID, in transaction: any WriteTransaction) throws -> (seq: Int64, product: Product)? {
        let connection = transaction.connection
        guard let seq = try Self.seq(of: id, connection), let product = try Self.load(seqs: [seq], connection).first else { return nil }
        return (seq, product)
    }

    func productUsing(sku: String, in transaction: any WriteTransaction) throws -> Int64? {
        try transaction.connection.query("SELECT sku, product_seq FROM variants WHERE sku = ?", [.text(sku)]).first.map { values in
            try StoredRow(values, table: "variants", keyColumn: "sku").int64("product_seq")
        }
    }

    func productUsing(barcode: String, in transaction: any WriteTransaction) throws -> Int64? {
        try transaction.connection.query("SELECT sku, product_seq FROM variants WHERE barcode = ?", [.text(barcode)]).first.map { values in
            try StoredRow(values, table: "variants", keyColumn: "sku").int64("product_seq")
        }
    }

    func insert(_ product: Product, in transaction: any WriteTransaction) throws -> Int64 {
        let connection = transaction.connection
        try Self.unique {
            try connection.run(
                """
                INSERT INTO products (id, title, description, category, tags, images, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(product.id.rawValue), .text(product.title), .optional(product.description), .optional(product.category),
                 try .json(encoding: product.tags), try .json(encoding: product.images), .text(product.status.rawValue),
                 .text(product.createdAt), .text(product.updatedAt)])
        }
        let seq = connection.lastInsertRowID
        for (position, variant) in product.variants.enumerated() {
            try insert(variant, productSeq: seq, position: position, in: transaction)
        }
        return seq
    }

    func update(_ product: Product, seq: Int64, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        try connection.run(
            "UPDATE products SET title = ?, description = ?, category = ?, tags = ?, images = ?, status = ?, updated_at = ? WHERE seq = ?",
            [.text(product.title), .optional(product.description), .optional(product.category), try .json(encoding: product.tags),
             try .json(encoding: product.images), .text(product.status.rawValue), .text(product.updatedAt), .integer(seq)])
    }

    func update(_ variant: VariantID, with patch: VariantPatch, in transaction: any WriteTransaction) throws {
        try Self.unique {
            try transaction.connection.run(
                """
                UPDATE variants SET title = COALESCE(?, title), price_amount = COALESCE(?, price_amount),
                    price_currency = COALESCE(?, price_currency), attributes = COALESCE(?, attributes),
                    barcode = COALESCE(?, barcode), low_stock_threshold = COALESCE(?, low_stock_threshold)
                WHERE id = ?
                """,
                [.optional(patch.title), patch.price.map { .integer($0.amount) } ?? .null, .optional(patch.price?.currency.code),
                 try .optionalJSON(encoding: patch.attributes), .optional(patch.barcode), .optional(patch.lowStockThreshold),
                 .text(variant.rawValue)])
        }
    }

    func insert(_ variant: Variant, productSeq: Int64, position: Int, in transaction: any WriteTransaction) throws {
        try Self.unique {
            try transaction.connection.run(
                """
                INSERT INTO variants (id, product_seq, position, sku, title, price_amount, price_currency, attributes, barcode, low_stock_threshold)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(variant.id.rawValue), .integer(productSeq), .integer(Int64(position)), .text(variant.sku),
                 .optional(variant.title), .integer(variant.price.amount), .text(variant.price.currency.code),
                 try .json(encoding: variant.attributes), .optional(variant.barcode), .optional(variant.lowStockThreshold)])
        }
    }

    func reservedUnits(ofProduct seq: Int64, in transaction: any WriteTransaction) throws -> Int {
        let values = try transaction.connection.query("""
            SELECT COALESCE(SUM(s.reserved), 0) AS reserved FROM stock_levels s
            JOIN variants v ON v.sku = s.sku WHERE v.product_seq = ?
            """, [.integer(seq)]).first ?? [:]
        return try StoredRow(values, table: "stock_levels", keyColumn: "reserved").int("reserved")
    }

    func delete(productSeq seq: Int64, in transaction: any WriteTransaction) throws -> [String] {
        let connection = transaction.connection
        let skus = try connection.query("SELECT sku FROM variants WHERE product_seq = ?", [.integer(seq)]).map { values in
            try StoredRow(values, table: "variants", keyColumn: "sku").text("sku")
        }
        for sku in skus { try connection.run("DELETE FROM stock_levels WHERE sku = ?", [.text(sku)]) }
        try connection.run("DELETE FROM products WHERE seq = ?", [.integer(seq)])
        return skus
    }

    // MARK: Rows

    /// Runs a write, turning a unique violation into the catalogue's conflict (SQLite names the column).
    private static func unique(_ write: () throws -> Void) throws {
        do {
            try write()
        } catch let error as SQLiteError where error.isUniqueViolation {
            if error.message.hasSuffix("variants.barcode") { throw CatalogueError.duplicateBarcode(error.message) }
            throw CatalogueError.duplicateSKU(error.message)
        }
    }

    private static func seq(of id: ProductID, _ connection: SQLiteConnection) throws -> Int64? {
        try connection.query("SELECT id, seq FROM products WHERE id = ?", [.text(id.rawValue)]).first.map { values in
            try StoredRow(values, table: "products", keyColumn: "id").int64("seq")
        }
    }

    /// Products with their variants and online availability in two queries, whatever the count.
    ///
    /// Columns are read by position (no dictionary per row) and the JSON columns by the in-house
    /// parser: a search page reads up to 200 products, most of them not cached on a storefront's
    /// distinct queries.
    private static func load(seqs: [Int64], _ connection: SQLiteConnection) throws -> [Product] {
        guard !seqs.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: seqs.count).joined(separator: ",")
        let bindings = seqs.map { SQLiteValue.integer($0) }
        var variants: [Int64: [Variant]] = [:]
        try connection.forEachRow(
            """
            SELECT v.product_seq, v.id, v.sku, v.title, v.price_amount, v.price_currency, v.attributes, v.barcode,
                v.low_stock_threshold, COALESCE((SELECT SUM(s.on_hand - s.reserved) FROM stock_levels s
                JOIN locations l ON l.id = s.location_id AND l.fulfils_online = 1 WHERE s.sku = v.sku), 0)
            FROM variants v WHERE v.product_seq IN (\(placeholders)) ORDER BY v.product_seq, v.position
            """, bindings
        ) { row in
            let sku = row.text(2)
            func bad(_ column: String) -> StoreError { .badRow(table: "variants", key: sku, column: column) }
            guard let currency = Currency(row.text(5)) else { throw bad("price_currency") }
            guard let attributes = StoredRow.stringMap(from: row.text(6)) else { throw bad("attributes") }
            variants[Int64(row.int(0)), default: []].append(Variant(
                id: VariantID(rawValue: row.text(1)), sku: sku, title: row.isNull(3) ? nil : row.text(3),
                price: Money(amount: Int64(row.int(4)), currency: currency), attributes: attributes,
                barcode: row.isNull(7) ? nil : row.text(7), lowStockThreshold: row.isNull(8) ? nil : row.int(8), available: row.int(9)))
        }
        var products: [Int64: Product] = [:]
        try connection.forEachRow(
            """
            SELECT seq, id, title, description, category, tags, images, status, created_at, updated_at
            FROM products WHERE seq IN (\(placeholders))
            """, bindings
        ) { row in
            let seq = Int64(row.int(0))
            let id = row.text(1)
            func bad(_ column: String) -> StoreError { .badRow(table: "products", key: id, column: column) }
            guard let tags = StoredRow.strings(from: row.text(5)) else { throw bad("tags") }
            guard let images = StoredRow.strings(from: row.text(6)) else { throw bad("images") }
            guard let status = Product.Status(rawValue: row.text(7)) else { throw bad("status") }
            products[seq] = Product(
                id: ProductID(rawValue: id), title: row.text(2), description: row.isNull(3) ? nil : row.text(3),
                category: row.isNull(4) ? nil : row.text(4), tags: tags, images: images, status: status,
                variants: variants[seq] ?? [], createdAt: row.text(8), updatedAt: row.text(9))
        }
        return seqs.compactMap { products[$0] }
    }
}
