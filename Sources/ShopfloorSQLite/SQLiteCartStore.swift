import ShopfloorDomain
import ShopfloorJSON
import ShopfloorStorage

/// Carts in tables `carts`, `cart_lines` (keyed by cart and SKU, without a rowid) and `reservations`
/// (keyed by cart, SKU and location). A line's title and price are joined from its variant and product.
struct SQLiteCartStore: CartStore {
    let readers: ReaderPool

    // MARK: Reads

    func cart(_ id: CartID) throws -> Cart? {
        try readers.read { connection in try Self.load(id, connection) }
    }

    func carts(status: Cart.Status?, after: Int64, limit: Int) throws -> [(position: Int64, cart: Cart)] {
        try readers.read { connection in
            var sql = "SELECT rowid, id FROM carts WHERE rowid > ?"
            var bindings: [SQLiteValue] = [.integer(after)]
            if let status {
                sql += " AND status = ?"
                bindings.append(.text(status.rawValue))
            }
            return try connection.query(sql + " ORDER BY rowid LIMIT ?", bindings + [.integer(Int64(limit))]).compactMap { values in
                let row = StoredRow(values, table: "carts", keyColumn: "id")
                let id = try row.id("id", as: CartID.self)
                return try Self.load(id, connection).map { (try row.int64("rowid"), $0) }
            }
        }
    }

    func carts(customer: String, status: Cart.Status?, limit: Int) throws -> [Cart] {
        try readers.read { connection in
            try connection.query("SELECT id FROM carts WHERE customer_id = ? AND (?2 IS NULL OR status = ?2) ORDER BY rowid DESC LIMIT ?3",
                                 [.text(customer), status.map { .text($0.rawValue) } ?? .null, .integer(Int64(limit))]).compactMap { values in
                try Self.load(try StoredRow(values, table: "carts", keyColumn: "id").id("id", as: CartID.self), connection)
            }
        }
    }

    func lineWriteReading(_ id: CartID, known: Cart?, variant sku: String?, locations: Bool) throws -> CartReading {
        try readers.read { connection in
            var reading = CartReading(cart: known, held: [:], variant: nil, locations: nil)
            if known == nil {
                reading.cart = try Self.load(id, connection)
                if reading.cart != nil { reading.held = try Self.held(by: id, connection) }
            }
            if let sku { reading.variant = try Self.variant(sku, connection) }
            if locations, let cart = reading.cart {
                reading.locations = try Self.reservationLocations(channel: cart.channel, location: cart.location, connection)
            }
            return reading
        }
    }

    func held(by id: CartID) throws -> [String: [Allocation]] {
        try readers.read { connection in try Self.held(by: id, connection) }
    }

    func reservationTotals() throws -> (carts: Int, units: Int) {
        try readers.read { connection in
            let values = try connection.query("SELECT COUNT(DISTINCT cart_id) AS carts, COALESCE(SUM(quantity), 0) AS units FROM reservations").first ?? [:]
            let row = StoredRow(values, table: "reservations", keyColumn: "carts")
            return (try row.int("carts"), try row.int("units"))
        }
    }

    func reservationLocations(channel: Cart.Channel, location code: String?) throws -> [Location] {
        try readers.read { connection in try Self.reservationLocations(channel: channel, location: code, connection) }
    }

    func deadline(of id: CartID) throws -> (status: Cart.Status, expiresAtMilliseconds: Int64)? {
        try readers.read { connection in
            guard let values = try connection.query("SELECT id, status, expires_at_ms FROM carts WHERE id = ?", [.text(id.rawValue)]).first
            else { return nil }
            let row = StoredRow(values, table: "carts", keyColumn: "id")
            return (try row.value("status", as: Cart.Status.self), try row.int64("expires_at_ms"))
        }
    }

    func recovery() throws -> (active: [(cart: CartID, expiresAtMilliseconds: Int64)], closedHolding: [CartID]) {
        try readers.read { connection in
            let active = try connection.query("SELECT id, expires_at_ms FROM carts WHERE status = 'active'").map { values in
                let row = StoredRow(values, table: "carts", keyColumn: "id")
                return (try row.id("id", as: CartID.self), try row.int64("expires_at_ms"))
            }
            let closed = try connection.query(
                "SELECT DISTINCT r.cart_id FROM reservations r JOIN carts c ON c.id = r.cart_id WHERE c.status != 'active'"
            ).map { values in try StoredRow(values, table: "reservations", keyColumn: "cart_id").id("cart_id", as: CartID.self) }
            return (active, closed)
        }
    }

    // MARK: Writes

    func insert(_ cart: Cart, location: LocationID?, expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO carts (id, channel, location_id, customer_id, customer_verified, currency, status, expires_at, expires_at_ms, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(cart.id.rawValue), .text(cart.channel.rawValue), .optional(location?.rawValue), .optional(cart.customerID),
             .integer(cart.customerVerified ? 1 : 0),
             .text(cart.currency.code), .text(cart.status.rawValue), .text(cart.expiresAt), .integer(expiresAtMilliseconds),
             .text(cart.createdAt), .text(cart.updatedAt)])
    }

    func cart(_ id: CartID, in transaction: any WriteTransaction) throws -> Cart? {
        try Self.load(id, transaction.connection)
    }

    func appendLine(_ line: CartLineID, cart: CartID, sku: String, quantity: Int, customisation: JSONValue?,
                    in transaction: any WriteTransaction) throws {
        // After the last line, even when earlier ones were removed, so lines read back in the order added.
        try transaction.connection.run(
            """
            INSERT INTO cart_lines (id, cart_id, position, sku, quantity, customisation)
            VALUES (?1, ?2, (SELECT COALESCE(MAX(position), -1) + 1 FROM cart_lines WHERE cart_id = ?2), ?3, ?4, ?5)
            """,
            [.text(line.rawValue), .text(cart.rawValue), .text(sku), .integer(Int64(quantity)), .optionalJSON(customisation)])
    }

    func setLine(cart: CartID, sku: String, quantity: Int, customisation: JSONValue?, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "UPDATE cart_lines SET quantity = ?, customisation = COALESCE(?, customisation) WHERE cart_id = ? AND sku = ?",
            [.integer(Int64(quantity)), .optionalJSON(customisation), .text(cart.rawValue), .text(sku)])
    }

    func deleteLine(cart: CartID, sku: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM cart_lines WHERE cart_id = ? AND sku = ?", [.text(cart.rawValue), .text(sku)])
    }

    /// Left alone, `status` keeps its index untouched: on an active cart this changes no index.
    func touch(_ id: CartID, expiresAt: String, expiresAtMilliseconds: Int64, updatedAt: String, activating: Bool,
               in transaction: any WriteTransaction) throws {
        let values: [SQLiteValue] = [.text(expiresAt), .integer(expiresAtMilliseconds), .text(updatedAt), .text(id.rawValue)]
        if activating {
            try transaction.connection.run(
                "UPDATE carts SET status = 'active', expires_at = ?, expires_at_ms = ?, updated_at = ? WHERE id = ?", values)
        } else {
            try transaction.connection.run("UPDATE carts SET expires_at = ?, expires_at_ms = ?, updated_at = ? WHERE id = ?", values)
        }
    }

    func setStatus(_ id: CartID, _ status: Cart.Status, updatedAt: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE carts SET status = ?, updated_at = ? WHERE id = ?",
                                       [.text(status.rawValue), .text(updatedAt), .text(id.rawValue)])
    }

    func saveDetails(of cart: Cart, updatedAt: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            UPDATE carts SET email = ?, phone = ?, customer_id = ?, customer_verified = ?, shipping_address = ?, billing_address = ?,
                shipping_method_id = ?, discount_codes = ?, checkout_step = ?, updated_at = ? WHERE id = ?
            """,
            [.optional(cart.email), .optional(cart.phone), .optional(cart.customerID), .integer(cart.customerVerified ? 1 : 0),
             try .optionalJSON(encoding: cart.shippingAddress),
             try .optionalJSON(encoding: cart.billingAddress), .optional(cart.shippingMethod), try .json(encoding: cart.discountCodes),
             .text(cart.checkoutStep), .text(updatedAt), .text(cart.id.rawValue)])
    }

    func addReservations(_ allocations: [Allocation], cart: CartID, sku: String, in transaction: any WriteTransaction) throws {
        for allocation in allocations {
            try transaction.connection.run(
                """
                INSERT INTO reservations (cart_id, sku, location_id, quantity) VALUES (?, ?, ?, ?)
                ON CONFLICT (cart_id, sku, location_id) DO UPDATE SET quantity = quantity + excluded.quantity
                """,
                [.text(cart.rawValue), .text(sku), .text(allocation.location.id.rawValue), .integer(Int64(allocation.quantity))])
        }
    }

    func removeReservations(_ allocations: [Allocation], cart: CartID, sku: String, in transaction: any WriteTransaction) throws {
        for allocation in allocations {
            let key: [SQLiteValue] = [.text(cart.rawValue), .text(sku), .text(allocation.location.id.rawValue), .integer(Int64(allocation.quantity))]
            // All of it goes: delete the row; part of it: lower the row (a row never holds zero).
            try transaction.connection.run("DELETE FROM reservations WHERE cart_id = ? AND sku = ? AND location_id = ? AND quantity = ?", key)
            try transaction.connection.run(
                "UPDATE reservations SET quantity = quantity - ?4 WHERE cart_id = ?1 AND sku = ?2 AND location_id = ?3 AND quantity > ?4", key)
        }
    }

    /// Row by row for the locations `held` names, by its whole key. Deleting by the key's first two
    /// columns would find the same rows, but for a table with foreign keys SQLite then deletes in two
    /// passes through a temporary b-tree (a pager opened and closed, its page allocated): 4 % of the
    /// writer's time on the cart loop. A row the holdings missed is still deleted, by the two columns,
    /// so a line never leaves one behind.
    func deleteReservations(cart: CartID, sku: String, held: [Allocation], in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        for allocation in held {
            try connection.run("DELETE FROM reservations WHERE cart_id = ? AND sku = ? AND location_id = ?",
                               [.text(cart.rawValue), .text(sku), .text(allocation.location.id.rawValue)])
        }
        var left = false
        try connection.forEachRow("SELECT 1 FROM reservations WHERE cart_id = ? AND sku = ? LIMIT 1", [.text(cart.rawValue), .text(sku)]) { _ in
            left = true
        }
        if left {
            try connection.run("DELETE FROM reservations WHERE cart_id = ? AND sku = ?", [.text(cart.rawValue), .text(sku)])
        }
    }

    func deleteReservations(cart: CartID, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM reservations WHERE cart_id = ?", [.text(cart.rawValue)])
    }

    // MARK: Rows

    static func load(_ id: CartID, _ connection: SQLiteConnection) throws -> Cart? {
        guard let values = try connection.query(
            "SELECT c.*, l.code AS location_code FROM carts c LEFT JOIN locations l ON l.id = c.location_id WHERE c.id = ?",
            [.text(id.rawValue)]).first
        else { return nil }
        let row = StoredRow(values, table: "carts", keyColumn: "id")
        let currency = try row.currency("currency")
        let lines = try connection.query(
            """
            SELECT cl.*, v.price_amount, v.title AS variant_title, p.title AS product_title FROM cart_lines cl
            LEFT JOIN variants v ON v.sku = cl.sku LEFT JOIN products p ON p.seq = v.product_seq
            WHERE cl.cart_id = ? ORDER BY cl.position
            """, [.text(id.rawValue)]).map { values in
            let line = StoredRow(values, table: "cart_lines", keyColumn: "id")
            let quantity = try line.int("quantity")
            // A line whose variant has since been deleted prices at zero.
            let price = Int64(try line.optionalInt("price_amount") ?? 0)
            return CartLine(
                id: try line.id("id", as: CartLineID.self), sku: try line.text("sku"),
                title: CartVariant.title(product: try line.optionalText("product_title"), variant: try line.optionalText("variant_title")),
                quantity: quantity, unitPrice: Money(amount: price, currency: currency),
                lineTotal: Money(amount: price * Int64(quantity), currency: currency),
                customisation: try line.optionalJSONValue("customisation"))
        }
        return Cart(
            id: id, channel: try row.value("channel", as: Cart.Channel.self), status: try row.value("status", as: Cart.Status.self),
            location: try row.optionalText("location_code"), customerID: try row.optionalText("customer_id"),
            email: try row.optionalText("email"), currency: currency, checkoutStep: try row.text("checkout_step"),
            shippingAddress: try row.optionalJSON("shipping_address", as: Address.self),
            billingAddress: try row.optionalJSON("billing_address", as: Address.self),
            shippingMethod: try row.optionalText("shipping_method_id"), discountCodes: try row.json("discount_codes", as: [String].self),
            lines: lines, expiresAt: try row.text("expires_at"), createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"),
            phone: try row.optionalText("phone"), customerVerified: try row.int("customer_verified") != 0)
    }

    /// By SKU, then location code, as checkout records an order line's allocations.
    static func held(by id: CartID, _ connection: SQLiteConnection) throws -> [String: [Allocation]] {
        let rows = try connection.query(
            "SELECT r.sku, r.quantity, l.* FROM reservations r JOIN locations l ON l.id = r.location_id WHERE r.cart_id = ? ORDER BY r.sku, l.code",
            [.text(id.rawValue)])
        var held: [String: [Allocation]] = [:]
        for values in rows {
            let row = StoredRow(values, table: "reservations", keyColumn: "sku")
            held[try row.text("sku"), default: []].append(
                Allocation(location: try SQLiteLocationStore.location(values), quantity: try row.int("quantity")))
        }
        return held
    }

    private static func variant(_ sku: String, _ connection: SQLiteConnection) throws -> CartVariant? {
        guard let values = try connection.query(
            """
            SELECT v.sku, v.title AS variant_title, v.price_amount, v.price_currency, p.title AS product_title, p.status
            FROM variants v JOIN products p ON p.seq = v.product_seq WHERE v.sku = ?
            """, [.text(sku)]).first
        else { return nil }
        let row = StoredRow(values, table: "variants", keyColumn: "sku")
        return CartVariant(
            title: CartVariant.title(product: try row.text("product_title"), variant: try row.optionalText("variant_title")),
            price: try row.int64("price_amount"), currency: try row.text("price_currency"),
            active: try row.value("status", as: Product.Status.self) == .active)
    }

    private static func reservationLocations(channel: Cart.Channel, location code: String?, _ connection: SQLiteConnection) throws -> [Location] {
        if channel == .pos {
            return try connection.query("SELECT * FROM locations WHERE code = ?", [.text(code ?? "")]).map(SQLiteLocationStore.location)
        }
        return try connection.query("SELECT * FROM locations WHERE fulfils_online = 1").map(SQLiteLocationStore.location)
    }
}
