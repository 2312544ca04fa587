import Foundation
public import ShopfloorStorage

/// Products and variants: create, read, search, update, delete. Every change is committed with its
/// `product.*` event and its search-index row.
public struct CatalogueService: Sendable {
    private let database: Database
    private let events: EventLog
    private let ledger: StockLedger
    private let cache = ProductCache()
    private let searches = SearchCache()

    public init(database: Database, stores: Stores, events: EventLog) {
        self.database = database
        self.events = events
        ledger = StockLedger(store: stores.stock, events: events)
        _ = events.subscribe { [cache, searches] event in
            cache.invalidate(by: event)
            searches.invalidate(by: event)
        }
    }

    // MARK: Writes

    public func create(_ input: NewProduct, actor: String) async throws -> Product {
        try await create([input], actor: actor, fieldsUnderProducts: false)[0]
    }

    /// Creates products in one transaction (bulk import): all or none. Variants with `initial_stock`
    /// get those units recorded as `received` at each named location.
    public func create(_ inputs: [NewProduct], actor: String, fieldsUnderProducts: Bool = true) async throws -> [Product] {
        var validator = Validator()
        validator.check((1...1000).contains(inputs.count), "products", "must hold 1 to 1000 products")
        try validator.throwIfAny()
        for (index, input) in inputs.enumerated() {
            do {
                try Self.validate(input)
            } catch {
                throw ValidationError(error.errors.map { FieldError(field: fieldsUnderProducts ? "products[\(index)].\($0.field)" : $0.field, detail: $0.detail) })
            }
        }
        let now = Timestamp.now
        let products = inputs.map { input in
            Product(
                id: .make(), title: input.title, description: input.description, category: input.category,
                tags: input.tags ?? [], images: input.images ?? [], status: input.status ?? .active,
                variants: input.variants.map { Variant(new: $0) }, createdAt: now, updatedAt: now)
        }
        return try await write { connection in
            try Self.requireUnused(skus: inputs.flatMap { $0.variants.map(\.sku) }, barcodes: inputs.flatMap { $0.variants.compactMap(\.barcode) },
                                   exceptProduct: nil, connection)
            var stored: [Product] = []
            for (product, input) in zip(products, inputs) {
                try connection.run(
                    """
                    INSERT INTO products (id, title, description, category, tags, images, status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(product.id.rawValue), .text(product.title), .optional(product.description), .optional(product.category),
                     .json(product.tags), .json(product.images), .text(product.status.rawValue), .text(now), .text(now)])
                let seq = connection.lastInsertRowID
                for (position, variant) in product.variants.enumerated() {
                    try Self.insert(variant, productSeq: seq, position: position, connection)
                }
                try Self.index(product, seq: seq, connection)
                // The product is announced before the stock it arrives with.
                try self.events.append(type: "product.created", topic: "product:\(product.id)", data: try Self.load(seq: seq, connection), in: connection)
                for variant in input.variants { try Self.receiveInitialStock(variant, actor: actor, ledger: self.ledger, connection) }
                stored.append(try Self.load(seq: seq, connection))
            }
            return stored
        }
    }

    public func update(_ id: ProductID, _ patch: ProductPatch, actor: String) async throws -> Product {
        var validator = Validator()
        if let title = patch.title { validator.text(title, "title", max: 200) }
        Self.validateOptionalFields(description: patch.description, category: patch.category, tags: patch.tags, images: patch.images, &validator)
        let variants = patch.variants ?? []
        for (index, variant) in variants.enumerated() {
            Self.validateVariant(sku: variant.sku, title: variant.title, price: variant.price, attributes: variant.attributes,
                                 barcode: variant.barcode, threshold: variant.lowStockThreshold, initialStock: variant.initialStock,
                                 "variants[\(index)]", &validator)
        }
        validator.check(Set(variants.map(\.sku)).count == variants.count, "variants", "SKUs must be unique")
        try validator.throwIfAny()
        return try await write { connection in
            guard let seq = try Self.seq(of: id, connection) else { throw CatalogueError.productNotFound(id.rawValue) }
            var current = try Self.load(seq: seq, connection)
            if let title = patch.title { current.title = title }
            if let description = patch.description { current.description = description }
            if let category = patch.category { current.category = category }
            if let tags = patch.tags { current.tags = tags }
            if let images = patch.images { current.images = images }
            if let status = patch.status { current.status = status }
            current.updatedAt = Timestamp.now
            try connection.run(
                "UPDATE products SET title = ?, description = ?, category = ?, tags = ?, images = ?, status = ?, updated_at = ? WHERE seq = ?",
                [.text(current.title), .optional(current.description), .optional(current.category), .json(current.tags),
                 .json(current.images), .text(current.status.rawValue), .text(current.updatedAt), .integer(seq)])
            let added = variants.filter { variant in !current.variants.contains { $0.sku == variant.sku } }
            guard current.variants.count + added.count <= 100 else {
                throw ValidationError(field: "variants", detail: "a product holds at most 100 variants")
            }
            for (index, variant) in added.enumerated() where variant.price == nil {
                throw ValidationError(field: "variants[\(variants.firstIndex { $0.sku == variant.sku } ?? index)].price", detail: "is required for a new variant")
            }
            try Self.requireUnused(skus: added.map(\.sku), barcodes: variants.compactMap(\.barcode), exceptProduct: seq, connection)
            for variant in variants {
                if let existing = current.variants.first(where: { $0.sku == variant.sku }) {
                    try connection.run(
                        """
                        UPDATE variants SET title = COALESCE(?, title), price_amount = COALESCE(?, price_amount),
                            price_currency = COALESCE(?, price_currency), attributes = COALESCE(?, attributes),
                            barcode = COALESCE(?, barcode), low_stock_threshold = COALESCE(?, low_stock_threshold)
                        WHERE id = ?
                        """,
                        [.optional(variant.title), variant.price.map { .integer($0.amount) } ?? .null, .optional(variant.price?.currency.code),
                         variant.attributes.map { .json($0) } ?? .null, .optional(variant.barcode), .optional(variant.lowStockThreshold),
                         .text(existing.id.rawValue)])
                }
            }
            var new: [NewVariant] = []
            for (offset, variant) in added.enumerated() {
                let created = NewVariant(
                    sku: variant.sku, title: variant.title, price: variant.price!, attributes: variant.attributes, barcode: variant.barcode,
                    lowStockThreshold: variant.lowStockThreshold, initialStock: variant.initialStock)
                try Self.insert(Variant(new: created), productSeq: seq, position: current.variants.count + offset, connection)
                new.append(created)
            }
            try Self.index(try Self.load(seq: seq, connection), seq: seq, connection)
            try self.events.append(type: "product.updated", topic: "product:\(id)", data: try Self.load(seq: seq, connection), in: connection)
            for variant in new { try Self.receiveInitialStock(variant, actor: actor, ledger: self.ledger, connection) }
            let stored = try Self.load(seq: seq, connection)
            return stored
        }
    }

    /// Deletes a product and its variants; refused while any of its units are reserved.
    public func delete(_ id: ProductID) async throws {
        try await write { connection in
            guard let seq = try Self.seq(of: id, connection) else { throw CatalogueError.productNotFound(id.rawValue) }
            let reserved = try connection.query("""
                SELECT COALESCE(SUM(s.reserved), 0) AS reserved FROM stock_levels s
                JOIN variants v ON v.sku = s.sku WHERE v.product_seq = ?
                """, [.integer(seq)]).first?["reserved"]?.int ?? 0
            guard reserved == 0 else { throw CatalogueError.productInUse(id.rawValue) }
            let skus = try connection.query("SELECT sku FROM variants WHERE product_seq = ?", [.integer(seq)]).compactMap { $0["sku"]?.string }
            // The SKUs are free for reuse: their stock goes with them (movements stay as history).
            for sku in skus { try connection.run("DELETE FROM stock_levels WHERE sku = ?", [.text(sku)]) }
            try connection.run("DELETE FROM product_search WHERE rowid = ?", [.integer(seq)])
            try connection.run("DELETE FROM products WHERE seq = ?", [.integer(seq)])
            try self.events.append(type: "product.deleted", topic: "product:\(id)", data: ProductDeleted(id: id.rawValue, skus: skus), in: connection)
        }
    }

    /// Runs a write, turning unique violations into the catalogue's conflicts.
    private func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        do {
            return try await database.writer.write(body)
        } catch let error as SQLiteError where error.isUniqueViolation {
            if error.violatedColumn == "variants.barcode" { throw CatalogueError.duplicateBarcode(error.message) }
            throw CatalogueError.duplicateSKU(error.message)
        }
    }

    // MARK: Reads

    /// The product as response JSON, from memory when it has not changed since last read.
    /// `nil` when there is no such product.
    public func productJSON(_ id: ProductID) throws -> (json: [UInt8], status: Product.Status)? {
        if let cached = cache.json(for: id.rawValue) { return cached }
        let loadedAt = events.publishedSeq
        guard let product = try product(id) else { return nil }
        let json = try JSONCoding.encode(product)
        cache.store(json, status: product.status, for: id.rawValue, skus: product.variants.map(\.sku), loadedAt: loadedAt)
        return (json, product.status)
    }

    public func product(_ id: ProductID) throws -> Product? {
        try database.readers.read { connection in
            guard let seq = try Self.seq(of: id, connection) else { return nil }
            return try Self.load(seq: seq, connection)
        }
    }

    /// A page of products matching `query`: ranked by relevance when searching, else in creation order.
    public func products(_ query: ProductQuery) throws -> Page<Product> {
        try database.readers.read { connection in
            let (page, next) = try Self.match(query, connection)
            return Page(items: try Self.load(seqs: page.map(\.seq), connection), nextCursor: next)
        }
    }

    /// The same page as response JSON, built from cached product responses where they are fresh.
    public func productsJSON(_ query: ProductQuery) throws -> [UInt8] {
        let loadedAt = events.publishedSeq
        let (page, next) = try matches(query)
        var parts = [String: [UInt8]]()
        var missing: [Int64] = []
        for hit in page {
            if let cached = cache.json(for: hit.id) { parts[hit.id] = cached.json } else { missing.append(hit.seq) }
        }
        if !missing.isEmpty {
            for product in try database.readers.read({ connection in try Self.load(seqs: missing, connection) }) {
                let json = try JSONCoding.encode(product)
                cache.store(json, status: product.status, for: product.id.rawValue, skus: product.variants.map(\.sku), loadedAt: loadedAt)
                parts[product.id.rawValue] = json
            }
        }
        var out = Array(#"{"items":["#.utf8)
        var first = true
        for hit in page {
            guard let json = parts[hit.id] else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: json)
        }
        out.append(contentsOf: #"],"next_cursor":"#.utf8)
        out.append(contentsOf: (next.map { "\"\($0)\"" } ?? "null").utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The requested page's hits, from the search cache when the same query ran since the catalogue
    /// last changed.
    private func matches(_ query: ProductQuery) throws -> (page: [(seq: Int64, id: String)], next: String?) {
        guard !query.inStock else { return try database.readers.read { connection in try Self.match(query, connection) } }
        let key = query.cacheKey
        if let cached = searches.page(for: key) { return (cached.hits, cached.next) }
        let generation = searches.generation
        let (hits, next) = try database.readers.read { connection in try Self.match(query, connection) }
        searches.store(SearchCache.Page(hits: hits, next: next), for: key, generation: generation)
        return (hits, next)
    }

    /// The products on the requested page, in order, and the cursor of the next page.
    private static func match(_ query: ProductQuery, _ connection: SQLiteConnection) throws -> (page: [(seq: Int64, id: String)], next: String?) {
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
        let limit = max(1, min(query.limit, 200))
        var hits: [(seq: Int64, id: String)] = []
        var next: ProductQuery.Cursor?
        if let match = query.matchExpression {
            let offset = if case .offset(let offset) = query.cursor { offset } else { 0 }
            let filter = conditions.isEmpty ? "" : " AND " + conditions.joined(separator: " AND ")
            let rows = try connection.query(
                """
                SELECT p.seq, p.id FROM product_search JOIN products p ON p.seq = product_search.rowid
                WHERE product_search MATCH ?\(filter)
                ORDER BY bm25(product_search, 10.0, 1.0, 5.0, 8.0), p.seq LIMIT ? OFFSET ?
                """,
                [.text(match)] + bindings + [.integer(Int64(limit + 1)), .integer(Int64(offset))])
            hits = rows.map { (Int64($0["seq"]?.int ?? 0), $0["id"]?.string ?? "") }
            if hits.count > limit { next = .offset(offset + limit) }
        } else {
            if case .after(let seq) = query.cursor { conditions.append("p.seq > ?"); bindings.append(.integer(seq)) }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try connection.query(
                "SELECT p.seq, p.id FROM products p \(filter) ORDER BY p.seq LIMIT ?", bindings + [.integer(Int64(limit + 1))])
            hits = rows.map { (Int64($0["seq"]?.int ?? 0), $0["id"]?.string ?? "") }
            if hits.count > limit { next = .after(seq: hits[limit - 1].seq) }
        }
        return (Array(hits.prefix(limit)), next?.token)
    }

    // MARK: Storage

    private static func seq(of id: ProductID, _ connection: SQLiteConnection) throws -> Int64? {
        try connection.query("SELECT seq FROM products WHERE id = ?", [.text(id.rawValue)]).first?["seq"]?.int.map(Int64.init)
    }

    static func load(seq: Int64, _ connection: SQLiteConnection) throws -> Product {
        guard let product = try load(seqs: [seq], connection).first else { throw CatalogueError.productNotFound("\(seq)") }
        return product
    }

    /// Loads products with their variants and online availability in three queries, whatever the count.
    static func load(seqs: [Int64], _ connection: SQLiteConnection) throws -> [Product] {
        guard !seqs.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: seqs.count).joined(separator: ",")
        let bindings = seqs.map { SQLiteValue.integer($0) }
        let variantRows = try connection.query(
            """
            SELECT v.*, COALESCE((SELECT SUM(s.on_hand - s.reserved) FROM stock_levels s
                JOIN locations l ON l.id = s.location_id AND l.fulfils_online = 1 WHERE s.sku = v.sku), 0) AS available
            FROM variants v WHERE v.product_seq IN (\(placeholders)) ORDER BY v.product_seq, v.position
            """, bindings)
        var variants: [Int: [Variant]] = [:]
        for row in variantRows {
            variants[row["product_seq"]?.int ?? 0, default: []].append(Variant(row: row))
        }
        let rows = try connection.query("SELECT * FROM products WHERE seq IN (\(placeholders))", bindings)
        var products: [Int: Product] = [:]
        for row in rows {
            let seq = row["seq"]?.int ?? 0
            products[seq] = Product(
                id: ProductID(rawValue: row["id"]?.string ?? ""), title: row["title"]?.string ?? "",
                description: row["description"]?.string, category: row["category"]?.string,
                tags: row["tags"]?.jsonValue([String].self) ?? [], images: row["images"]?.jsonValue([String].self) ?? [],
                status: Product.Status(rawValue: row["status"]?.string ?? "") ?? .draft, variants: variants[seq] ?? [],
                createdAt: row["created_at"]?.string ?? "", updatedAt: row["updated_at"]?.string ?? "")
        }
        return seqs.compactMap { products[Int($0)] }
    }

    private static func insert(_ variant: Variant, productSeq: Int64, position: Int, _ connection: SQLiteConnection) throws {
        try connection.run(
            """
            INSERT INTO variants (id, product_seq, position, sku, title, price_amount, price_currency, attributes, barcode, low_stock_threshold)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(variant.id.rawValue), .integer(productSeq), .integer(Int64(position)), .text(variant.sku),
             .optional(variant.title), .integer(variant.price.amount), .text(variant.price.currency.code),
             .json(variant.attributes), .optional(variant.barcode), .optional(variant.lowStockThreshold)])
    }

    private static func index(_ product: Product, seq: Int64, _ connection: SQLiteConnection) throws {
        try connection.run("DELETE FROM product_search WHERE rowid = ?", [.integer(seq)])
        try connection.run(
            "INSERT INTO product_search (rowid, title, description, tags, skus) VALUES (?, ?, ?, ?, ?)",
            [.integer(seq), .text(product.title), .text(product.description ?? ""), .text(product.tags.joined(separator: " ")),
             .text(product.variants.map(\.sku).joined(separator: " "))])
    }

    /// Records a new variant's `initial_stock` as units received at each named location.
    private static func receiveInitialStock(_ variant: NewVariant, actor: String, ledger: StockLedger, _ connection: SQLiteConnection) throws {
        for (code, units) in (variant.initialStock ?? [:]).sorted(by: { $0.key < $1.key }) where units > 0 {
            guard let location = try connection.query("SELECT * FROM locations WHERE code = ?", [.text(code)]).first.map(Location.init(row:)) else {
                throw InventoryError.unknownLocation(code)
            }
            try ledger.apply(
                StockLedger.Change(sku: variant.sku, location: location, onHandDelta: units, reason: AdjustmentReason.received.rawValue, actor: actor), in: connection)
        }
    }

    /// Refuses SKUs or barcodes that another product (or, for a new product, any) already uses,
    /// naming the first one found.
    private static func requireUnused(skus: [String], barcodes: [String], exceptProduct seq: Int64?, _ connection: SQLiteConnection) throws {
        for sku in skus {
            if let row = try connection.query("SELECT product_seq FROM variants WHERE sku = ?", [.text(sku)]).first, row["product_seq"]?.int.map(Int64.init) != seq || seq == nil {
                throw CatalogueError.duplicateSKU(sku)
            }
        }
        for barcode in barcodes {
            if let row = try connection.query("SELECT product_seq, sku FROM variants WHERE barcode = ?", [.text(barcode)]).first,
               seq == nil || row["product_seq"]?.int.map(Int64.init) != seq {
                throw CatalogueError.duplicateBarcode(barcode)
            }
        }
    }

    // MARK: Validation

    static func validate(_ input: NewProduct) throws(ValidationError) {
        var validator = Validator()
        validator.text(input.title, "title", max: 200)
        validateOptionalFields(description: input.description, category: input.category, tags: input.tags, images: input.images, &validator)
        validator.check((1...100).contains(input.variants.count), "variants", "must hold 1 to 100 variants")
        for (index, variant) in input.variants.enumerated() { validate(variant, "variants[\(index)]", &validator) }
        let skus = input.variants.map(\.sku)
        validator.check(Set(skus).count == skus.count, "variants", "SKUs must be unique")
        let barcodes = input.variants.compactMap(\.barcode)
        validator.check(Set(barcodes).count == barcodes.count, "variants", "barcodes must be unique")
        try validator.throwIfAny()
    }

    private static func validateOptionalFields(description: String?, category: String?, tags: [String]?, images: [String]?, _ validator: inout Validator) {
        validator.text(description, "description", max: 10_000, required: false)
        validator.text(category, "category", max: 100, required: false)
        if let tags {
            validator.check(tags.count <= 50, "tags", "must hold at most 50 tags")
            for (index, tag) in tags.enumerated() { validator.text(tag, "tags[\(index)]", max: 50) }
        }
        if let images {
            validator.check(images.count <= 20, "images", "must hold at most 20 URLs")
            for (index, image) in images.enumerated() {
                validator.check(image.utf8.count <= 2000 && isWebURL(image), "images[\(index)]", "must be an http or https URL")
            }
        }
    }

    private static func validate(_ variant: NewVariant, _ path: String, _ validator: inout Validator) {
        validateVariant(sku: variant.sku, title: variant.title, price: variant.price, attributes: variant.attributes, barcode: variant.barcode,
                        threshold: variant.lowStockThreshold, initialStock: variant.initialStock, path, &validator)
    }

    private static func validateVariant(sku: String, title: String?, price: Money?, attributes: [String: String]?, barcode: String?,
                                        threshold: Int?, initialStock: [String: Int]?, _ path: String, _ validator: inout Validator) {
        validator.check(isValidSKU(sku), "\(path).sku", "must be 1 to 64 letters, digits, '-', '_' or '.'")
        validator.text(title, "\(path).title", max: 200, required: false)
        if let price {
            validator.check((0...100_000_000_000).contains(price.amount), "\(path).price.amount",
                            "must be a whole number of minor units from 0 to 100000000000")
        }
        if let attributes {
            validator.check(attributes.count <= 20, "\(path).attributes", "must hold at most 20 attributes")
            for (key, value) in attributes {
                validator.check((1...50).contains(key.unicodeScalars.count), "\(path).attributes", "names must be 1 to 50 characters")
                validator.text(value, "\(path).attributes.\(key)", max: 200)
            }
        }
        if let barcode {
            validator.check(isValidBarcode(barcode), "\(path).barcode", "must be an EAN-8, UPC-A, EAN-13 or GTIN-14 with a valid check digit")
        }
        if let threshold {
            validator.check((0...1_000_000).contains(threshold), "\(path).low_stock_threshold", "must be from 0 to 1000000")
        }
        for (code, units) in initialStock ?? [:] {
            validator.check((0...100_000_000).contains(units), "\(path).initial_stock.\(code)", "must be a whole number from 0 to 100000000")
        }
    }

    /// An absolute `http` or `https` URL with a host, that parses (RFC 3986).
    static func isWebURL(_ text: String) -> Bool {
        guard !text.contains(where: { $0.isWhitespace }), let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty
        else { return false }
        return true
    }

    /// 1 to 64 of letters, digits, `-`, `_` and `.`.
    public static func isValidSKU(_ sku: String) -> Bool {
        (1...64).contains(sku.utf8.count) && sku.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".")
        }
    }

    /// GS1 check digit: from the right, digits weigh 3, 1, 3, …; the total is a multiple of 10.
    static func isValidBarcode(_ barcode: String) -> Bool {
        let digits = barcode.utf8.map { Int($0) - 48 }
        guard [8, 12, 13, 14].contains(digits.count), digits.allSatisfy({ (0...9).contains($0) }) else { return false }
        let sum = digits.reversed().enumerated().reduce(0) { $0 + $1.element * ($1.offset % 2 == 0 ? 1 : 3) }
        return sum % 10 == 0
    }
}

extension Variant {
    init(new: NewVariant) {
        self.init(
            id: .make(), sku: new.sku, title: new.title, price: new.price, attributes: new.attributes ?? [:],
            barcode: new.barcode, lowStockThreshold: new.lowStockThreshold, available: 0)
    }

    init(row: SQLiteConnection.Row) {
        self.init(
            id: VariantID(rawValue: row["id"]?.string ?? ""), sku: row["sku"]?.string ?? "", title: row["title"]?.string,
            price: Money(amount: Int64(row["price_amount"]?.int ?? 0), currency: Currency(row["price_currency"]?.string ?? "") ?? Currency("USD")!),
            attributes: row["attributes"]?.jsonValue([String: String].self) ?? [:], barcode: row["barcode"]?.string,
            lowStockThreshold: row["low_stock_threshold"]?.int, available: row["available"]?.int ?? 0)
    }
}

extension SQLiteValue {
    static func optional(_ text: String?) -> SQLiteValue { text.map { .text($0) } ?? .null }
    static func optional(_ number: Int?) -> SQLiteValue { number.map { .integer(Int64($0)) } ?? .null }

    static func json<T: Encodable>(_ value: T) -> SQLiteValue {
        .text((try? JSONCoding.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null")
    }

    func jsonValue<T: Decodable>(_ type: T.Type) -> T? {
        guard case .text(let text) = self else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// The payload of `product.deleted`: the SKUs that went with it.
struct ProductDeleted: Codable {
    var id: String
    var skus: [String]
}
