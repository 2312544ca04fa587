import ShopfloorDomain
import ShopfloorJSON
import ShopfloorStorage

/// Customers in table `customers` (migration 15) with `customer_tags`, the `customer_search` FTS5 index
/// (rowid = `seq`), `customer_consent` and its `consent_ledger`, `customer_purchases`, `customer_views`
/// and `customer_audit`. Segment filters become one SQL expression over `customers c`
/// (``SegmentSQL``), so a count or a page is one query however many conditions it has.
struct SQLiteCustomerStore: CustomerStore {
    let readers: ReaderPool

    // MARK: Reads

    func customer(_ id: CustomerID) throws -> Customer? {
        try readers.read { try Self.load(where: "id", .text(id.rawValue), $0) }
    }

    func customer(email: String) throws -> Customer? {
        try readers.read { try Self.load(where: "email", .text(email), $0) }
    }

    func customer(phone: String) throws -> Customer? {
        try readers.read { try Self.load(where: "phone", .text(phone), $0) }
    }

    func customers(_ selection: CustomerSelection, before: Int64, limit: Int) throws -> [(position: Int64, customer: Customer)] {
        try readers.read { connection in
            var conditions = ["c.erased_at IS NULL", "c.seq < ?"]
            var bindings: [SQLiteValue] = [.integer(before)]
            if let filter = selection.filter {
                let (sql, values) = SegmentSQL.expression(filter)
                conditions.append(sql)
                bindings += values
            }
            let sql: String
            if let prefix = selection.emailPrefix {
                // Text compares as UTF-8 bytes: every email starting with `prefix` sorts below `prefix` and U+10FFFF.
                // The range is a subquery so that the planner reads the email index, not every row newest first.
                sql = """
                    SELECT c.* FROM customers c WHERE c.seq IN (SELECT seq FROM customers WHERE email >= ? AND email < ?)
                    AND \(conditions.joined(separator: " AND ")) ORDER BY c.seq DESC LIMIT ?
                    """
                bindings.insert(contentsOf: [.text(prefix), .text(prefix + "\u{10FFFF}")], at: 0)
            } else if selection.words.isEmpty {
                sql = "SELECT c.* FROM customers c WHERE \(conditions.joined(separator: " AND ")) ORDER BY c.seq DESC LIMIT ?"
            } else {
                sql = """
                    SELECT c.* FROM customer_search s JOIN customers c ON c.seq = s.rowid
                    WHERE customer_search MATCH ? AND \(conditions.joined(separator: " AND ")) ORDER BY s.rowid DESC LIMIT ?
                    """
                bindings.insert(.text(FullTextQuery.allPrefixes(selection.words)), at: 0)
            }
            let rows = try connection.query(sql, bindings + [.integer(Int64(limit))])
            let seqs = try rows.map { try StoredRow($0, table: "customers", keyColumn: "id").int64("seq") }
            // One read of consent for the page, not one per customer.
            let consent = try Self.consent(of: seqs, connection)
            return try zip(seqs, rows).map { seq, values in (seq, try Self.customer(values, consent: consent[seq] ?? [:])) }
        }
    }

    func count(_ filter: SegmentFilter) throws -> Int {
        try readers.read { connection in
            let (sql, bindings) = SegmentSQL.expression(filter)
            let values = try connection.query("SELECT count(*) AS n FROM customers c WHERE c.erased_at IS NULL AND \(sql)", bindings).first ?? [:]
            return try StoredRow(values, table: "customers", keyColumn: "n").int("n")
        }
    }

    func exportRows(_ filter: SegmentFilter?, after: Int64, limit: Int) throws -> [CustomerExportRow] {
        try readers.read { connection in
            var sql = """
                SELECT c.seq, c.id, c.email, c.phone, c.first_name, c.last_name, c.tags, c.orders_count, c.total_spent, c.last_order_at, c.created_at
                FROM customers c WHERE c.erased_at IS NULL AND c.seq > ?
                """
            var bindings: [SQLiteValue] = [.integer(after)]
            if let filter {
                let (condition, values) = SegmentSQL.expression(filter)
                sql += " AND \(condition)"
                bindings += values
            }
            var rows: [CustomerExportRow] = []
            rows.reserveCapacity(limit)
            try connection.forEachRow(sql + " ORDER BY c.seq LIMIT ?", bindings + [.integer(Int64(limit))]) { row in
                func text(_ index: Int) -> String? { row.isNull(index) ? nil : row.text(index) }
                rows.append(CustomerExportRow(
                    position: Int64(row.int(0)), id: row.text(1), email: text(2), phone: text(3), firstName: text(4), lastName: text(5),
                    tags: (try? JSONCoding.decode([String].self, from: Array(row.text(6).utf8))) ?? [], ordersCount: row.int(7),
                    totalSpent: Int64(row.int(8)), lastOrderAt: text(9), createdAt: row.text(10)))
            }
            return rows
        }
    }

    func consentHistory(of id: CustomerID, before: Int64, limit: Int) throws -> [ConsentChange] {
        try readers.read { connection in
            try connection.query(
                "SELECT * FROM consent_ledger WHERE customer_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                [.text(id.rawValue), .integer(before), .integer(Int64(limit))]
            ).map { values in
                let row = StoredRow(values, table: "consent_ledger", keyColumn: "id")
                return ConsentChange(
                    channel: try row.value("channel", as: ConsentChannel.self),
                    consent: Consent(state: try row.value("state", as: Consent.State.self),
                                     level: try row.optionalText("level").flatMap(Consent.Level.init(rawValue:)),
                                     source: try row.optionalText("source"), updatedAt: try row.text("at")),
                    position: try row.int64("id"))
            }
        }
    }

    func timeline(of id: CustomerID, before: TimelineEntry.Cursor?, limit: Int) throws -> [TimelineEntry] {
        try readers.read { connection in
            let key = id.rawValue
            let seq = try Self.seq(of: id, connection) ?? -1
            var sql = """
                SELECT * FROM (
                    SELECT 'order' AS kind, created_at AS at, 'order:' || id AS key, id AS a, number AS b, channel AS c, status AS d,
                        total AS amount, currency FROM orders WHERE customer_id = ?
                    UNION ALL SELECT 'cart', created_at, 'cart:' || id, id, status, channel, NULL, NULL, NULL FROM carts WHERE customer_id = ?
                    UNION ALL SELECT 'message', created_at, 'message:' || id, id, channel, template, status, NULL, NULL FROM messages
                        WHERE customer_id = ?
                    UNION ALL SELECT 'consent', at, 'consent:' || printf('%020d', id), channel, state, source, NULL, NULL, NULL FROM consent_ledger
                        WHERE customer_id = ?
                    UNION ALL SELECT 'view', at, 'view:' || printf('%020d', rowid), product_id, NULL, NULL, NULL, NULL, NULL FROM customer_views
                        WHERE customer_seq = ?
                )
                """
            var bindings: [SQLiteValue] = [.text(key), .text(key), .text(key), .text(key), .integer(seq)]
            if let before {
                sql += " WHERE at < ? OR (at = ? AND key < ?)"
                bindings += [.text(before.at), .text(before.at), .text(before.key)]
            }
            return try connection.query(sql + " ORDER BY at DESC, key DESC LIMIT ?", bindings + [.integer(Int64(limit))]).map { values in
                let row = StoredRow(values, table: "timeline", keyColumn: "key")
                let kind = try row.value("kind", as: TimelineEntry.Kind.self)
                let a = try row.text("a")
                var fields: [(name: String, value: TimelineValue)] = []
                switch kind {
                case .order:
                    fields = [("order_id", .text(a)), ("number", .text("#\(try row.int("b"))")), ("channel", .text(try row.text("c"))),
                              ("status", .text(try row.text("d"))),
                              ("total", .money(Money(amount: try row.int64("amount"), currency: try row.currency("currency"))))]
                case .cart:
                    fields = [("cart_id", .text(a)), ("status", .text(try row.text("b"))), ("channel", .text(try row.text("c")))]
                case .message:
                    fields = [("message_id", .text(a)), ("channel", .text(try row.text("b"))), ("template", .text(try row.text("c"))),
                              ("status", .text(try row.text("d")))]
                case .consent:
                    fields = [("channel", .text(a)), ("state", .text(try row.text("b")))]
                    if let source = try row.optionalText("c") { fields.append(("source", .text(source))) }
                case .view:
                    fields = [("product_id", .text(a))]
                }
                return TimelineEntry(kind: kind, at: try row.text("at"), key: try row.text("key"), fields: fields)
            }
        }
    }

    func views(of ids: [CustomerID], limit: Int) throws -> [CustomerID: [ProductView]] {
        guard !ids.isEmpty else { return [:] }
        return try readers.read { connection in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            var out: [CustomerID: [ProductView]] = [:]
            for values in try connection.query(
                """
                SELECT c.id, v.product_id, max(v.at) AS at FROM customer_views v JOIN customers c ON c.seq = v.customer_seq
                WHERE c.id IN (\(marks)) GROUP BY c.id, v.product_id ORDER BY at DESC
                """, ids.map { .text($0.rawValue) }) {
                let row = StoredRow(values, table: "customer_views", keyColumn: "product_id")
                let id = try row.id("id", as: CustomerID.self)
                if out[id, default: []].count < limit {
                    out[id, default: []].append(ProductView(productID: try row.text("product_id"), at: try row.text("at")))
                }
            }
            return out
        }
    }

    func views(of id: CustomerID, limit: Int) throws -> [ProductView] {
        try readers.read { connection in
            try connection.query(
                """
                SELECT product_id, max(at) AS at FROM customer_views WHERE customer_seq = (SELECT seq FROM customers WHERE id = ?)
                GROUP BY product_id ORDER BY at DESC LIMIT ?
                """, [.text(id.rawValue), .integer(Int64(limit))]
            ).map { values in
                let row = StoredRow(values, table: "customer_views", keyColumn: "product_id")
                return ProductView(productID: try row.text("product_id"), at: try row.text("at"))
            }
        }
    }

    // MARK: Writes

    func matches(_ filter: SegmentFilter, customer id: CustomerID, in transaction: any WriteTransaction) throws -> Bool {
        let (sql, bindings) = SegmentSQL.expression(filter)
        return try !transaction.connection.query(
            "SELECT 1 FROM customers c WHERE c.id = ? AND c.erased_at IS NULL AND \(sql)", [.text(id.rawValue)] + bindings).isEmpty
    }

    func customer(_ id: CustomerID, in transaction: any WriteTransaction) throws -> Customer? {
        try Self.load(where: "id", .text(id.rawValue), transaction.connection)
    }

    func customer(email: String, in transaction: any WriteTransaction) throws -> Customer? {
        try Self.load(where: "email", .text(email), transaction.connection)
    }

    func customer(phone: String, in transaction: any WriteTransaction) throws -> Customer? {
        try Self.load(where: "phone", .text(phone), transaction.connection)
    }

    func insert(_ customer: Customer, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        try Self.unique {
            try connection.run(
                """
                INSERT INTO customers (id, email, phone, first_name, last_name, tags, note, locale, timezone, addresses, has_account, orders_count,
                    total_spent, first_order_at, last_order_at, preferences, erased_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(customer.id.rawValue)] + (try Self.fields(customer)) + [.text(customer.createdAt), .text(customer.updatedAt)])
        }
        try Self.index(customer, seq: connection.lastInsertRowID, connection)
    }

    func update(_ customer: Customer, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        guard let seq = try Self.seq(of: customer.id, connection) else { throw CustomerError.notFound(customer.id.rawValue) }
        try Self.unique {
            try connection.run(
                """
                UPDATE customers SET email = ?, phone = ?, first_name = ?, last_name = ?, tags = ?, note = ?, locale = ?, timezone = ?,
                    addresses = ?, has_account = ?, orders_count = ?, total_spent = ?, first_order_at = ?, last_order_at = ?, preferences = ?,
                    erased_at = ?, updated_at = ? WHERE seq = ?
                """,
                (try Self.fields(customer)) + [.text(customer.updatedAt), .integer(seq)])
        }
        try connection.run("DELETE FROM customer_search WHERE rowid = ?", [.integer(seq)])
        try connection.run("DELETE FROM customer_tags WHERE customer_seq = ?", [.integer(seq)])
        try Self.index(customer, seq: seq, connection)
    }

    func contact(_ id: CustomerID, in transaction: any WriteTransaction) throws -> CustomerContact? {
        try Self.contact(where: "id", id.rawValue, transaction.connection)
    }

    func contact(email: String, in transaction: any WriteTransaction) throws -> CustomerContact? {
        try Self.contact(where: "email", email, transaction.connection)
    }

    func contact(phone: String, in transaction: any WriteTransaction) throws -> CustomerContact? {
        try Self.contact(where: "phone", phone, transaction.connection)
    }

    private static func contact(where column: StaticString, _ value: String, _ connection: SQLiteConnection) throws -> CustomerContact? {
        try connection.query("SELECT id, email, phone FROM customers WHERE \(column) = ?", [.text(value)]).first.map { values in
            let row = StoredRow(values, table: "customers", keyColumn: "id")
            return CustomerContact(id: try row.id("id", as: CustomerID.self), email: try row.optionalText("email"), phone: try row.optionalText("phone"))
        }
    }

    func recordOrder(_ activity: OrderActivity, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        let id = SQLiteValue.text(activity.customerID.rawValue)
        // The shipping address as the encoder writes it, so one given again compares equal and is not added twice.
        let address = try activity.address.map { try SQLiteValue.json(encoding: $0) } ?? .null
        var bindings: [SQLiteValue] = [.integer(activity.amount), .text(activity.at), id, address, .integer(Int64(activity.maxAddresses))]
        let preferences: String
        if let added = Self.addingUnits(activity.units, to: "preferences", &bindings) {
            preferences = added
        } else {
            // A name a JSON path cannot quote: read, add in Swift, write back.
            guard let values = try connection.query("SELECT id, preferences FROM customers WHERE id = ?", [id]).first else { return }
            var read = try Self.preferences(StoredRow(values, table: "customers", keyColumn: "id"))
            read.add(activity.units)
            bindings.append(try .json(encoding: read))
            preferences = "?\(bindings.count)"
        }
        // One statement on one row: stats by arithmetic, units added in place, the address appended when new.
        try connection.run(
            """
            UPDATE customers SET orders_count = orders_count + 1, total_spent = total_spent + ?1,
                first_order_at = min(coalesce(first_order_at, ?2), ?2), last_order_at = max(coalesce(last_order_at, ?2), ?2), updated_at = ?2,
                preferences = \(preferences),
                addresses = CASE WHEN ?4 IS NOT NULL AND json_array_length(addresses) < ?5
                    AND NOT EXISTS (SELECT 1 FROM json_each(customers.addresses) WHERE json_each.value = json(?4))
                    THEN json_insert(addresses, '$[#]', json(?4)) ELSE addresses END
            WHERE id = ?3
            """, bindings)
        // Keyed by order, so purchases append rather than land on a page per customer.
        for (line, purchase) in activity.purchases.enumerated() {
            try connection.run(
                """
                INSERT INTO customer_purchases (order_seq, line, customer_seq, sku, product_id, category, location, quantity, at)
                SELECT o.seq, ?, c.seq, ?, ?, ?, ?, ?, ? FROM customers c, orders o WHERE c.id = ? AND o.id = ?
                """,
                [.integer(Int64(line)), .text(purchase.sku), .optional(purchase.productID), .optional(purchase.category),
                 .optional(purchase.location), .integer(Int64(purchase.quantity)), .text(purchase.at), id, .text(activity.orderID.rawValue)])
        }
    }

    /// An SQL expression of `column` with `units` added, one `json_set` per dimension and value (each
    /// given once), its paths and counts appended to `bindings`; `nil` when a name holds a character a
    /// quoted JSON path label cannot (`"`, `\`, a control character).
    static func addingUnits(_ units: [PreferenceUnits], to column: String, _ bindings: inout [SQLiteValue]) -> String? {
        var expression = column
        for row in units {
            let names: [String]
            if row.dimension == CustomerPreferences.categoryDimension {
                names = ["categories", row.value]
            } else {
                names = ["attributes", String(row.dimension.dropFirst(CustomerPreferences.attributePrefix.count)), row.value]
            }
            guard names.allSatisfy({ !$0.unicodeScalars.contains { $0 == "\"" || $0 == "\\" || $0.value < 0x20 } }) else { return nil }
            bindings.append(.text("$" + names.map { ".\"\($0)\"" }.joined()))
            let path = "?\(bindings.count)"
            bindings.append(.integer(Int64(row.units)))
            expression = "json_set(\(expression), \(path), coalesce(json_extract(\(column), \(path)), 0) + ?\(bindings.count))"
        }
        return expression
    }

    func withdraw(_ order: OrderID, amount: Int64, from id: CustomerID, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE customers SET total_spent = total_spent - ?, updated_at = ? WHERE id = ?",
                                       [.integer(amount), .text(at), .text(id.rawValue)])
        try transaction.connection.run("DELETE FROM customer_purchases WHERE order_seq = (SELECT seq FROM orders WHERE id = ?)", [.text(order.rawValue)])
    }

    func setConsent(_ consent: Consent, channel: ConsentChannel, of id: CustomerID, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        guard let seq = try Self.seq(of: id, connection) else { throw CustomerError.notFound(id.rawValue) }
        try connection.run(
            """
            INSERT INTO customer_consent (customer_seq, channel, state, level, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (customer_seq, channel) DO UPDATE SET state = excluded.state, level = excluded.level, source = excluded.source,
                updated_at = excluded.updated_at
            """,
            [.integer(seq), .text(channel.rawValue), .text(consent.state.rawValue), .optional(consent.level?.rawValue), .optional(consent.source),
             .text(consent.updatedAt ?? "")])
        try connection.run(
            "INSERT INTO consent_ledger (customer_id, channel, state, level, source, at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(id.rawValue), .text(channel.rawValue), .text(consent.state.rawValue), .optional(consent.level?.rawValue),
             .optional(consent.source), .text(consent.updatedAt ?? "")])
    }

    func variantFacts(sku: String, in transaction: any WriteTransaction) throws -> VariantFacts? {
        guard let values = try transaction.connection.query(
            "SELECT p.id, p.category, v.attributes FROM variants v JOIN products p ON p.seq = v.product_seq WHERE v.sku = ?", [.text(sku)]).first
        else { return nil }
        let row = StoredRow(values, table: "variants", keyColumn: "id")
        // Read with the strict parser straight into text: this runs for every line of every order.
        var attributes: [String: String] = [:]
        if let text = try row.optionalText("attributes") {
            guard case .object(let members, _)? = try? JSONParser.parse(Array(text.utf8)) else {
                throw StoreError.badRow(table: "variants", key: row.key, column: "attributes")
            }
            for (name, value) in members { if case .string(let text) = value { attributes[name] = text } }
        }
        return VariantFacts(productID: try row.text("id"), category: try row.optionalText("category"), attributes: attributes)
    }

    func merge(_ from: CustomerID, into: CustomerID, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        guard let fromSeq = try Self.seq(of: from, connection), let intoSeq = try Self.seq(of: into, connection) else {
            throw CustomerError.notFound(from.rawValue)
        }
        // Purchases are keyed by order: the orders' own index finds them, before the orders move.
        try connection.run(
            "UPDATE customer_purchases SET customer_seq = ? WHERE order_seq IN (SELECT seq FROM orders WHERE customer_id = ?)",
            [.integer(intoSeq), .text(from.rawValue)])
        for table in ["customer_views", "visitors", "conversations"] {
            try connection.run("UPDATE \(table) SET customer_seq = ? WHERE customer_seq = ?", [.integer(intoSeq), .integer(fromSeq)])
        }
        for table in ["orders", "carts", "messages", "push_subscriptions", "customer_sessions", "consent_ledger", "discounts"] {
            try connection.run("UPDATE \(table) SET customer_id = ? WHERE customer_id = ?", [.text(into.rawValue), .text(from.rawValue)])
        }
        try connection.run("DELETE FROM customer_search WHERE rowid = ?", [.integer(fromSeq)])
        try connection.run("DELETE FROM customers WHERE seq = ?", [.integer(fromSeq)])
    }

    func erase(_ id: CustomerID, redact: [String], at: String, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        guard let customer = try Self.load(where: "id", .text(id.rawValue), connection), let seq = try Self.seq(of: id, connection) else {
            throw CustomerError.notFound(id.rawValue)
        }
        let key = SQLiteValue.text(id.rawValue)
        // The event log and webhook payloads first, while the orders and carts still say whose they are.
        for text in redact {
            try connection.run(
                """
                UPDATE events SET data = replace(data, ?, '[erased]') WHERE instr(data, ?) > 0 AND (
                    topic IN (SELECT 'order:' || id FROM orders WHERE customer_id = ?) OR topic IN (SELECT 'cart:' || id FROM carts WHERE customer_id = ?)
                    OR topic IN (SELECT 'cart:' || cart_id FROM orders WHERE customer_id = ?)
                    OR topic IN (SELECT 'track:' || tracking_token FROM orders WHERE customer_id = ?))
                """, [.text(text), .text(text), key, key, key, key])
        }
        let addresses = [customer.email, customer.phone].compactMap { $0 }
        for address in addresses {
            // An email or phone is distinctive enough to take out wherever it appears.
            try connection.run("UPDATE events SET data = replace(data, ?, '[erased]') WHERE instr(data, ?) > 0", [.text(address), .text(address)])
            try connection.run("UPDATE webhook_deliveries SET payload = replace(payload, ?, '[erased]') WHERE instr(payload, ?) > 0",
                               [.text(address), .text(address)])
            try connection.run("DELETE FROM suppressions WHERE address = ?", [.text(address)])
            try connection.run("DELETE FROM sign_in_codes WHERE email = ?", [.text(address)])
        }
        // The customer's messages, and those sent to their addresses before they were one (sign-in codes).
        try connection.run(
            """
            UPDATE messages SET recipient = '[erased]', subject = NULL, text = '', html = NULL, link = NULL,
                status = CASE WHEN status IN ('queued', 'sending') THEN 'skipped' ELSE status END,
                skip_reason = CASE WHEN status IN ('queued', 'sending') THEN 'erased' ELSE skip_reason END,
                next_attempt_at = NULL, next_attempt_at_ms = NULL
            WHERE customer_id = ? OR recipient COLLATE NOCASE IN (\(Array(repeating: "?", count: addresses.count).joined(separator: ", ")))
            """, [key] + addresses.map { .text($0) })
        try connection.run(
            """
            DELETE FROM push_subscriptions WHERE customer_id = ? OR order_id IN (SELECT id FROM orders WHERE customer_id = ?)
                OR cart_id IN (SELECT id FROM carts WHERE customer_id = ?)
            """, [key, key, key])
        try connection.run(
            """
            UPDATE carts SET email = NULL, phone = NULL, shipping_address = NULL, billing_address = NULL
                WHERE customer_id = ? OR id IN (SELECT cart_id FROM orders WHERE customer_id = ?)
            """, [key, key])
        try connection.run("UPDATE orders SET email = NULL, phone = NULL, shipping_address = NULL, billing_address = NULL WHERE customer_id = ?", [key])
        try connection.run(
            """
            UPDATE customers SET email = NULL, phone = NULL, first_name = NULL, last_name = NULL, tags = '[]', note = NULL, locale = NULL,
                timezone = NULL, addresses = '[]', preferences = '{}', erased_at = ?, updated_at = ? WHERE seq = ?
            """, [.text(at), .text(at), .integer(seq)])
        try connection.run("DELETE FROM customer_search WHERE rowid = ?", [.integer(seq)])
        try connection.run("DELETE FROM customer_tags WHERE customer_seq = ?", [.integer(seq)])
        try connection.run("DELETE FROM customer_views WHERE customer_seq = ?", [.integer(seq)])
        // What the customer did and said while browsing goes with their visitors.
        try connection.run("DELETE FROM activity WHERE visitor IN (SELECT id FROM visitors WHERE customer_seq = ?)", [.integer(seq)])
        try connection.run(
            "DELETE FROM conversation_messages WHERE conversation_id IN (SELECT id FROM conversations WHERE customer_seq = ?)",
            [.integer(seq)])
        try connection.run("DELETE FROM conversations WHERE customer_seq = ?", [.integer(seq)])
        try connection.run("DELETE FROM visitors WHERE customer_seq = ?", [.integer(seq)])
    }

    func audit(_ id: CustomerID, action: String, actor: String, detail: String, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO customer_audit (customer_id, action, actor, detail, at) VALUES (?, ?, ?, ?, ?)",
            [.text(id.rawValue), .text(action), .text(actor), .text(detail), .text(at)])
    }

    // MARK: Rows

    private static func seq(of id: CustomerID, _ connection: SQLiteConnection) throws -> Int64? {
        try connection.query("SELECT seq FROM customers WHERE id = ?", [.text(id.rawValue)]).first.map {
            try StoredRow($0, table: "customers", keyColumn: "seq").int64("seq")
        }
    }

    /// The columns after `id` up to `updated_at`, in table order.
    private static func fields(_ customer: Customer) throws -> [SQLiteValue] {
        [.optional(customer.email), .optional(customer.phone), .optional(customer.firstName), .optional(customer.lastName),
         try .json(encoding: customer.tags), .optional(customer.note), .optional(customer.locale), .optional(customer.timezone),
         try .json(encoding: customer.addresses), .integer(customer.hasAccount ? 1 : 0), .integer(Int64(customer.stats.ordersCount)),
         .integer(customer.stats.totalSpent), .optional(customer.stats.firstOrderAt), .optional(customer.stats.lastOrderAt),
         try .json(encoding: customer.preferences), .optional(customer.erasedAt)]
    }

    /// The customer's search entry and tags.
    private static func index(_ customer: Customer, seq: Int64, _ connection: SQLiteConnection) throws {
        guard customer.erasedAt == nil else { return }
        try connection.run(
            "INSERT INTO customer_search (rowid, name, email, phone, tags, note) VALUES (?, ?, ?, ?, ?, ?)",
            [.integer(seq), .optional(customer.fullName), .optional(customer.email), .optional(customer.phone.map { String($0.dropFirst()) }),
             .text(customer.tags.joined(separator: " ")), .optional(customer.note)])
        for tag in customer.tags {
            try connection.run("INSERT OR IGNORE INTO customer_tags (tag, customer_seq) VALUES (?, ?)", [.text(tag), .integer(seq)])
        }
    }

    /// The `preferences` column, `{"categories":{…},"attributes":{"size":{…}}}`, read with the strict
    /// parser straight into counts: this runs in every checkout's transaction.
    private static func preferences(_ row: StoredRow) throws(StoreError) -> CustomerPreferences {
        let text = try row.text("preferences")
        guard let document = try? JSONParser.parse(Array(text.utf8)), case .object(let members, _) = document else {
            throw StoreError.badRow(table: "customers", key: row.key, column: "preferences")
        }
        func counts(_ value: JSONValue?) -> [String: Int] {
            guard case .object(let entries, _)? = value else { return [:] }
            return entries.compactMapValues { if case .integer(let units) = $0 { Int(units) } else { nil } }
        }
        var preferences = CustomerPreferences(categories: counts(members["categories"]))
        if case .object(let attributes, _)? = members["attributes"] {
            for (name, values) in attributes { preferences.attributes[name] = counts(values) }
        }
        return preferences
    }

    private static func unique(_ write: () throws -> Void) throws {
        do {
            try write()
        } catch let error as SQLiteError where error.isUniqueViolation {
            throw StoreError.duplicate(constraint: error.message.hasSuffix("customers.phone") ? "customers.phone" : "customers.email")
        }
    }

    private static func load(where column: StaticString, _ value: SQLiteValue, _ connection: SQLiteConnection) throws -> Customer? {
        try connection.query("SELECT * FROM customers WHERE \(column) = ?", [value]).first.map { try customer($0, connection) }
    }

    private static func customer(_ values: SQLiteConnection.Row, _ connection: SQLiteConnection) throws -> Customer {
        let seq = try StoredRow(values, table: "customers", keyColumn: "id").int64("seq")
        return try customer(values, consent: try consent(of: [seq], connection)[seq] ?? [:])
    }

    /// The consent of each of `seqs`, in one read.
    private static func consent(of seqs: [Int64], _ connection: SQLiteConnection) throws -> [Int64: [ConsentChannel: Consent]] {
        guard !seqs.isEmpty else { return [:] }
        var out: [Int64: [ConsentChannel: Consent]] = [:]
        let marks = Array(repeating: "?", count: seqs.count).joined(separator: ", ")
        for values in try connection.query("SELECT * FROM customer_consent WHERE customer_seq IN (\(marks))", seqs.map { .integer($0) }) {
            let entry = StoredRow(values, table: "customer_consent", keyColumn: "channel")
            out[try entry.int64("customer_seq"), default: [:]][try entry.value("channel", as: ConsentChannel.self)] = Consent(
                state: try entry.value("state", as: Consent.State.self), level: try entry.optionalText("level").flatMap(Consent.Level.init(rawValue:)),
                source: try entry.optionalText("source"), updatedAt: try entry.text("updated_at"))
        }
        return out
    }

    private static func customer(_ values: SQLiteConnection.Row, consent: [ConsentChannel: Consent]) throws -> Customer {
        let row = StoredRow(values, table: "customers", keyColumn: "id")
        return Customer(
            id: try row.id("id", as: CustomerID.self), email: try row.optionalText("email"), phone: try row.optionalText("phone"),
            firstName: try row.optionalText("first_name"), lastName: try row.optionalText("last_name"), tags: try StoredJSON.strings(row, "tags"),
            note: try row.optionalText("note"), locale: try row.optionalText("locale"), timezone: try row.optionalText("timezone"),
            addresses: try StoredJSON.addresses(row, "addresses"), hasAccount: try row.bool("has_account"), consent: consent,
            stats: CustomerStats(ordersCount: try row.int("orders_count"), totalSpent: try row.int64("total_spent"),
                                 firstOrderAt: try row.optionalText("first_order_at"), lastOrderAt: try row.optionalText("last_order_at")),
            preferences: try Self.preferences(row), erasedAt: try row.optionalText("erased_at"),
            createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"))
    }
}
