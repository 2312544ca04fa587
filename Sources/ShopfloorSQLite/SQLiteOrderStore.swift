import ShopfloorDomain
import ShopfloorStorage

/// Orders in tables `orders` (its `number` unique, allocated as the highest plus one), `order_lines`
/// (allocations as JSON), `payments` and `order_history`.
struct SQLiteOrderStore: OrderStore {
    let readers: ReaderPool

    // MARK: Reads

    func order(_ id: OrderID) throws -> Order? {
        try readers.read { connection in try Self.load(id, connection) }
    }

    func order(forCart cart: CartID) throws -> Order? {
        try readers.read { connection in try Self.load(where: "cart_id", is: cart.rawValue, connection) }
    }

    func order(trackingToken: String) throws -> Order? {
        try readers.read { connection in try Self.load(where: "tracking_token", is: trackingToken, connection) }
    }

    func placed(since: String, currency: Currency) throws -> (count: Int, total: Int64) {
        // Orders are numbered in the order they are placed: read back from the newest, a page at a
        // time, until one is older than `since` (there is no index on the time).
        try readers.read { connection in
            var count = 0
            var total: Int64 = 0
            var before = Int64.max
            var done = false
            while !done {
                var rows = 0
                try connection.forEachRow(
                    "SELECT seq, created_at, total, currency FROM orders WHERE seq < ? ORDER BY seq DESC LIMIT 1000", [.integer(before)]
                ) { statement in
                    rows += 1
                    before = Int64(statement.int(0))
                    guard statement.text(1) >= since else {
                        done = true
                        return
                    }
                    count += 1
                    if statement.text(3) == currency.code { total += Int64(statement.int(2)) }
                }
                if rows < 1000 { done = true }
            }
            return (count, total)
        }
    }

    func orders(_ filter: OrderService.Filter, before: Int64, limit: Int) throws -> [(position: Int64, order: Order)] {
        try readers.read { connection in
            var sql = "SELECT o.seq, o.id FROM orders o LEFT JOIN locations l ON l.id = o.location_id WHERE o.seq < ?"
            var bindings: [SQLiteValue] = [.integer(before)]
            func add(_ clause: String, _ value: String?) {
                guard let value else { return }
                sql += " AND \(clause)"
                bindings.append(.text(value))
            }
            add("o.status = ?", filter.status?.rawValue)
            add("o.customer_id = ?", filter.customerID)
            add("o.email = ? COLLATE NOCASE", filter.email)
            add("o.channel = ?", filter.channel?.rawValue)
            add("l.code = ?", filter.location)
            add("o.created_at >= ?", filter.createdAfter)
            add("o.created_at < ?", filter.createdBefore)
            if case .till(let code, let online) = filter.visibility {
                sql += online ? " AND ((o.channel = 'pos' AND l.code = ?) OR o.channel = 'online')" : " AND o.channel = 'pos' AND l.code = ?"
                bindings.append(.text(code))
            }
            return try connection.query(sql + " ORDER BY o.seq DESC LIMIT ?", bindings + [.integer(Int64(limit))]).compactMap { values in
                let row = StoredRow(values, table: "orders", keyColumn: "id")
                return try Self.load(try row.id("id", as: OrderID.self), connection).map { (try row.int64("seq"), $0) }
            }
        }
    }

    // MARK: Writes

    func order(_ id: OrderID, in transaction: any WriteTransaction) throws -> Order? {
        try Self.load(id, transaction.connection)
    }

    func nextNumber(in transaction: any WriteTransaction) throws -> Int {
        let values = try transaction.connection.query("SELECT COALESCE(MAX(number), 1000) + 1 AS n FROM orders").first ?? [:]
        return try StoredRow(values, table: "orders", keyColumn: "n").int("n")
    }

    func insert(_ order: Order, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        guard let number = Int(order.number.dropFirst()) else { throw StoreError.badRow(table: "orders", key: order.id.rawValue, column: "number") }
        let totals = order.totals
        try connection.run(
            """
            INSERT INTO orders (id, number, cart_id, channel, location_id, customer_id, email, phone, status, currency, subtotal, discount, shipping,
                tax, total, shipping_address, billing_address, shipping_method, discount_codes, tracking_token, created_at, updated_at)
            VALUES (?, ?, ?, ?, (SELECT id FROM locations WHERE code = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(order.id.rawValue), .integer(Int64(number)), .text(order.cartID.rawValue), .text(order.channel.rawValue),
             .optional(order.location), .optional(order.customerID), .optional(order.email), .optional(order.phone), .text(order.status.rawValue),
             .text(order.currency.code), .integer(totals.subtotal.amount), .integer(totals.discount.amount), .integer(totals.shipping.amount),
             .integer(totals.tax.amount), .integer(totals.total.amount), try .optionalJSON(encoding: order.shippingAddress),
             try .optionalJSON(encoding: order.billingAddress), try .optionalJSON(encoding: order.shippingMethod),
             try .json(encoding: order.discountCodes), .text(order.trackingToken), .text(order.createdAt), .text(order.updatedAt)])
        for (position, line) in order.lines.enumerated() {
            try connection.run(
                """
                INSERT INTO order_lines (order_id, position, sku, title, quantity, unit_price, line_total, customisation, allocations)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(order.id.rawValue), .integer(Int64(position)), .text(line.sku), .text(line.title), .integer(Int64(line.quantity)),
                 .integer(line.unitPrice.amount), .integer(line.lineTotal.amount), .optionalJSON(line.customisation),
                 try .json(encoding: line.allocations)])
        }
        for payment in order.payments {
            try connection.run(
                "INSERT INTO payments (id, order_id, method, status, amount, currency, reference, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [.text(payment.id.rawValue), .text(order.id.rawValue), .text(payment.method), .text(payment.status.rawValue),
                 .integer(payment.amount.amount), .text(payment.amount.currency.code), .optional(payment.reference), .text(payment.createdAt)])
        }
    }

    func setStatus(_ id: OrderID, _ status: OrderStatus, trackingNumber: String?, updatedAt: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "UPDATE orders SET status = ?, tracking_number = COALESCE(?, tracking_number), updated_at = ? WHERE id = ?",
            [.text(status.rawValue), .optional(trackingNumber), .text(updatedAt), .text(id.rawValue)])
    }

    func appendHistory(_ id: OrderID, _ entry: OrderHistoryEntry, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO order_history (order_id, status, actor, note, tracking_number, at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(id.rawValue), .text(entry.status.rawValue), .text(entry.actor), .optional(entry.note), .optional(entry.trackingNumber),
             .text(entry.at)])
    }

    func payment(_ id: PaymentID, in transaction: any WriteTransaction) throws -> (order: OrderID, status: Payment.Status)? {
        guard let values = try transaction.connection.query("SELECT id, order_id, status FROM payments WHERE id = ?", [.text(id.rawValue)]).first
        else { return nil }
        let row = StoredRow(values, table: "payments", keyColumn: "id")
        return (try row.id("order_id", as: OrderID.self), try row.value("status", as: Payment.Status.self))
    }

    func setPaymentStatus(_ id: PaymentID, _ status: Payment.Status, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE payments SET status = ? WHERE id = ?", [.text(status.rawValue), .text(id.rawValue)])
    }

    func refundPayments(of order: OrderID, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE payments SET status = 'refunded' WHERE order_id = ? AND status = 'succeeded'",
                                       [.text(order.rawValue)])
    }

    // MARK: Rows

    private static func load(where column: StaticString, is value: String, _ connection: SQLiteConnection) throws -> Order? {
        guard let values = try connection.query("SELECT id FROM orders WHERE \(column) = ?", [.text(value)]).first else { return nil }
        return try load(try StoredRow(values, table: "orders", keyColumn: "id").id("id", as: OrderID.self), connection)
    }

    static func load(_ id: OrderID, _ connection: SQLiteConnection) throws -> Order? {
        guard let values = try connection.query(
            "SELECT o.*, l.code AS location_code FROM orders o LEFT JOIN locations l ON l.id = o.location_id WHERE o.id = ?",
            [.text(id.rawValue)]).first
        else { return nil }
        let row = StoredRow(values, table: "orders", keyColumn: "id")
        let currency = try row.currency("currency")
        let money = { (column: String) throws(StoreError) in Money(amount: try row.int64(column), currency: currency) }
        let lines = try connection.query("SELECT * FROM order_lines WHERE order_id = ? ORDER BY position", [.text(id.rawValue)]).map { values in
            let line = StoredRow(values, table: "order_lines", keyColumn: "order_id")
            return OrderLine(
                sku: try line.text("sku"), title: try line.text("title"), quantity: try line.int("quantity"),
                unitPrice: Money(amount: try line.int64("unit_price"), currency: currency),
                lineTotal: Money(amount: try line.int64("line_total"), currency: currency),
                customisation: try line.optionalJSONValue("customisation"), allocations: try line.json("allocations", as: [LineAllocation].self))
        }
        let payments = try connection.query("SELECT * FROM payments WHERE order_id = ? ORDER BY created_at, id", [.text(id.rawValue)]).map { values in
            let payment = StoredRow(values, table: "payments", keyColumn: "id")
            return Payment(
                id: try payment.id("id", as: PaymentID.self), method: try payment.text("method"),
                status: try payment.value("status", as: Payment.Status.self),
                amount: Money(amount: try payment.int64("amount"), currency: try payment.currency("currency")),
                reference: try payment.optionalText("reference"), createdAt: try payment.text("created_at"))
        }
        let history = try connection.query("SELECT * FROM order_history WHERE order_id = ? ORDER BY id", [.text(id.rawValue)]).map { values in
            let entry = StoredRow(values, table: "order_history", keyColumn: "id")
            return OrderHistoryEntry(
                status: try entry.value("status", as: OrderStatus.self), at: try entry.text("at"), actor: try entry.text("actor"),
                note: try entry.optionalText("note"), trackingNumber: try entry.optionalText("tracking_number"))
        }
        return Order(
            id: id, number: "#\(try row.int("number"))", cartID: try row.id("cart_id", as: CartID.self),
            channel: try row.value("channel", as: Cart.Channel.self), location: try row.optionalText("location_code"),
            status: try row.value("status", as: OrderStatus.self), customerID: try row.optionalText("customer_id"),
            email: try row.optionalText("email"), currency: currency, lines: lines,
            totals: CartTotals(subtotal: try money("subtotal"), discount: try money("discount"), shipping: try money("shipping"),
                               tax: try money("tax"), total: try money("total")),
            shippingAddress: try row.optionalJSON("shipping_address", as: Address.self),
            billingAddress: try row.optionalJSON("billing_address", as: Address.self),
            shippingMethod: try row.optionalJSON("shipping_method", as: ShippingMethod.self),
            discountCodes: try row.json("discount_codes", as: [String].self), payments: payments, history: history,
            trackingToken: try row.text("tracking_token"), trackingNumber: try row.optionalText("tracking_number"),
            createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"), handoverPin: nil, phone: try row.optionalText("phone"))
    }
}
