public import ShopfloorStorage

/// Orders: placing them (for checkout), reading and listing them, moving them through their
/// statuses, and their public tracking view.
public final class OrderService: Sendable {
    private let database: Database
    private let stock: StockRegistry
    private let events: EventLog

    public init(database: Database, events: EventLog, stock: StockRegistry) {
        self.database = database
        self.events = events
        self.stock = stock
    }

    // MARK: Reads

    public func order(_ id: OrderID) throws -> Order? {
        try database.readers.read { try Self.load(id, $0) }
    }

    func order(forCart cart: CartID) throws -> Order? {
        try database.readers.read { connection in
            guard let id = try connection.query("SELECT id FROM orders WHERE cart_id = ?", [.text(cart.rawValue)]).first?["id"]?.string else { return nil }
            return try Self.load(OrderID(rawValue: id), connection)
        }
    }

    /// Filters of `GET /v1/orders`; all optional.
    public struct Filter: Sendable {
        public var status: OrderStatus?
        public var customerId: String?
        public var email: String?
        public var channel: Cart.Channel?
        public var location: String?
        public var createdAfter: String?
        public var createdBefore: String?

        public init(status: OrderStatus? = nil, customerId: String? = nil, email: String? = nil, channel: Cart.Channel? = nil,
                    location: String? = nil, createdAfter: String? = nil, createdBefore: String? = nil) {
            self.status = status
            self.customerId = customerId
            self.email = email
            self.channel = channel
            self.location = location
            self.createdAfter = createdAfter
            self.createdBefore = createdBefore
        }
    }

    /// Orders matching `filter`, newest first, a page at a time (the cursor is the last order's seq).
    public func orders(_ filter: Filter, limit: Int, before: Int64?) throws -> Page<Order> {
        try database.readers.read { connection in
            var sql = "SELECT o.seq, o.id FROM orders o LEFT JOIN locations l ON l.id = o.location_id WHERE o.seq < ?"
            var bindings: [SQLiteValue] = [.integer(before ?? Int64.max)]
            func add(_ clause: String, _ value: String?) {
                guard let value else { return }
                sql += " AND \(clause)"
                bindings.append(.text(value))
            }
            add("o.status = ?", filter.status?.rawValue)
            add("o.customer_id = ?", filter.customerId)
            add("o.email = ? COLLATE NOCASE", filter.email)
            add("o.channel = ?", filter.channel?.rawValue)
            add("l.code = ?", filter.location)
            add("o.created_at >= ?", filter.createdAfter.flatMap(Timestamp.normalised))
            add("o.created_at < ?", filter.createdBefore.flatMap(Timestamp.normalised))
            let limit = max(1, min(limit, 200))
            let rows = try connection.query(sql + " ORDER BY o.seq DESC LIMIT ?", bindings + [.integer(Int64(limit + 1))])
            let orders = try rows.prefix(limit).compactMap { try Self.load(OrderID(rawValue: $0["id"]?.string ?? ""), connection) }
            let next = rows.count > limit ? rows[limit - 1]["seq"]?.int.map(String.init) : nil
            return Page(items: orders, nextCursor: next)
        }
    }

    /// The public view of the order with this tracking token.
    public func tracking(_ token: String) throws -> OrderTracking? {
        try database.readers.read { connection in
            guard let id = try connection.query("SELECT id FROM orders WHERE tracking_token = ?", [.text(token)]).first?["id"]?.string,
                  let order = try Self.load(OrderID(rawValue: id), connection)
            else { return nil }
            return Self.tracking(order)
        }
    }

    // MARK: Transitions

    /// Moves an order to `status` if the transition table allows it, recording who, when and why.
    /// Cancelling or refunding before dispatch returns the units to the locations they came from.
    public func transition(_ id: OrderID, to status: OrderStatus, actor: String, note: String?, trackingNumber: String?) async throws -> Order {
        var validator = Validator()
        validator.text(note, "note", max: 500, required: false)
        validator.text(trackingNumber, "tracking_number", max: 100, required: false)
        try validator.throwIfAny()
        guard let current = try order(id) else { throw CheckoutError.notFound("order \(id)") }
        guard current.status.next.contains(status) else { throw CheckoutError.invalidTransition(from: current.status, to: status) }
        let restock = (status == .cancelled || status == .refunded) && current.status.goodsInStock
        var returns: [String: [Allocation]] = [:]
        if restock {
            let locations = try database.readers.read { connection in
                try connection.query("SELECT * FROM locations").map(Location.init(row:))
            }
            for line in current.lines {
                for allocation in line.allocations {
                    guard let location = locations.first(where: { $0.code == allocation.location }) else { continue }
                    returns[line.sku, default: []].append(Allocation(location: location, quantity: allocation.quantity))
                }
            }
        }
        let returned = returns
        return try await stock.settling(returned, as: .returned) {
            try await database.writer.write { connection in
                // Checked again inside the transaction: two requests may race to move the same order.
                guard let row = try connection.query("SELECT status FROM orders WHERE id = ?", [.text(id.rawValue)]).first,
                      row["status"]?.string == current.status.rawValue
                else { throw CheckoutError.invalidTransition(from: current.status, to: status) }
                for (sku, allocations) in returned.sorted(by: { $0.key < $1.key }) {
                    for allocation in allocations {
                        try self.stock.ledger.apply(
                            StockLedger.Change(sku: sku, location: allocation.location, onHandDelta: allocation.quantity,
                                               reason: "returned", actor: "order:\(id)", note: status.rawValue), in: connection)
                    }
                }
                if status == .refunded {
                    try connection.run("UPDATE payments SET status = 'refunded' WHERE order_id = ? AND status = 'succeeded'", [.text(id.rawValue)])
                }
                try Self.record(id, status: status, actor: actor, note: note, trackingNumber: trackingNumber, events: self.events, connection)
                return try Self.load(id, connection)!
            }
        }
    }

    // MARK: Writing (inside checkout's transaction)

    /// Inserts the order of a completed cart and returns it.
    func insert(_ placement: Placement, _ connection: SQLiteConnection) throws -> Order {
        let cart = placement.cart
        let now = Timestamp.now
        let number = (try connection.query("SELECT COALESCE(MAX(number), 1000) + 1 AS n FROM orders").first?["n"]?.int) ?? 1001
        let locationID = cart.channel == .pos ? try connection.query("SELECT id FROM locations WHERE code = ?", [.text(cart.location ?? "")]).first?["id"]?.string : nil
        try connection.run(
            """
            INSERT INTO orders (id, number, cart_id, channel, location_id, customer_id, email, status, currency, subtotal, discount, shipping,
                tax, total, shipping_address, billing_address, shipping_method, discount_codes, tracking_token, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'placed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(placement.id.rawValue), .integer(Int64(number)), .text(cart.id.rawValue), .text(cart.channel.rawValue), .optional(locationID),
             .optional(cart.customerId), .optional(cart.email), .text(cart.currency.code), .integer(cart.totals.subtotal.amount),
             .integer(cart.totals.discount.amount), .integer(cart.totals.shipping.amount), .integer(cart.totals.tax.amount),
             .integer(cart.totals.total.amount), try Self.json(cart.shippingAddress), try Self.json(cart.billingAddress),
             try Self.json(placement.method), .text(String(decoding: try JSONCoding.encode(placement.discounts.compactMap(\.code)), as: UTF8.self)),
             .text(placement.token), .text(now), .text(now)])
        for (position, line) in cart.lines.enumerated() {
            let allocations = (placement.allocations[line.sku] ?? []).map { LineAllocation(location: $0.location.code, quantity: $0.quantity) }
            try connection.run(
                """
                INSERT INTO order_lines (order_id, position, sku, title, quantity, unit_price, line_total, customisation, allocations)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(placement.id.rawValue), .integer(Int64(position)), .text(line.sku), .text(line.title), .integer(Int64(line.quantity)),
                 .integer(line.unitPrice.amount), .integer(line.lineTotal.amount), .optionalJSON(line.customisation),
                 .text(String(decoding: try JSONCoding.encode(allocations), as: UTF8.self))])
        }
        try connection.run(
            "INSERT INTO payments (id, order_id, method, status, amount, currency, reference, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [.text(PaymentID.make().rawValue), .text(placement.id.rawValue), .text(placement.payment.method), .text(placement.outcome.status.rawValue),
             .integer(cart.totals.total.amount), .text(cart.currency.code), .optional(placement.outcome.reference), .text(now)])
        try Self.record(placement.id, status: .placed, actor: placement.actor, note: nil, trackingNumber: nil, events: self.events, connection, event: "order.placed")
        if placement.outcome.status == .succeeded {
            try Self.record(placement.id, status: .paid, actor: placement.actor, note: nil, trackingNumber: nil, events: self.events, connection)
            if placement.tillSale {
                try Self.record(placement.id, status: .delivered, actor: placement.actor, note: "sold at the till", trackingNumber: nil, events: self.events, connection)
            }
        }
        return try Self.load(placement.id, connection)!
    }

    /// Sets the status, appends the history entry, and emits the event on the order's topic and,
    /// without personal data, on its tracking topic.
    static func record(_ id: OrderID, status: OrderStatus, actor: String, note: String?, trackingNumber: String?,
                               events: EventLog, _ connection: SQLiteConnection, event: String = "order.status_changed") throws {
        let now = Timestamp.now
        try connection.run("UPDATE orders SET status = ?, tracking_number = COALESCE(?, tracking_number), updated_at = ? WHERE id = ?",
                           [.text(status.rawValue), .optional(trackingNumber), .text(now), .text(id.rawValue)])
        try connection.run("INSERT INTO order_history (order_id, status, actor, note, tracking_number, at) VALUES (?, ?, ?, ?, ?, ?)",
                           [.text(id.rawValue), .text(status.rawValue), .text(actor), .optional(note), .optional(trackingNumber), .text(now)])
        guard let order = try load(id, connection) else { return }
        try events.append(type: event, topic: "order:\(id)",
                            data: StatusChanged(orderId: id.rawValue, number: order.number, status: status, actor: actor, note: note,
                                                trackingNumber: order.trackingNumber), in: connection)
        try events.append(type: event, topic: "track:\(order.trackingToken)", data: tracking(order), in: connection)
    }

    // MARK: Loading

    static func load(_ id: OrderID, _ connection: SQLiteConnection) throws -> Order? {
        guard let row = try connection.query(
            "SELECT o.*, l.code AS location_code FROM orders o LEFT JOIN locations l ON l.id = o.location_id WHERE o.id = ?",
            [.text(id.rawValue)]).first
        else { return nil }
        let currency = Currency(row["currency"]?.string ?? "") ?? Currency("GBP")!
        let money = { (column: String) in Money(amount: Int64(row[column]?.int ?? 0), currency: currency) }
        let lines = try connection.query("SELECT * FROM order_lines WHERE order_id = ? ORDER BY position", [.text(id.rawValue)]).map { line in
            OrderLine(
                sku: line["sku"]?.string ?? "", title: line["title"]?.string ?? "", quantity: line["quantity"]?.int ?? 0,
                unitPrice: Money(amount: Int64(line["unit_price"]?.int ?? 0), currency: currency),
                lineTotal: Money(amount: Int64(line["line_total"]?.int ?? 0), currency: currency),
                customisation: line["customisation"]?.string.flatMap { try? JSONParser.parse(Array($0.utf8)) },
                allocations: try JSONCoding.decode([LineAllocation].self, from: Array((line["allocations"]?.string ?? "[]").utf8)))
        }
        let payments = try connection.query("SELECT * FROM payments WHERE order_id = ? ORDER BY created_at, id", [.text(id.rawValue)]).map { payment in
            Payment(
                id: PaymentID(rawValue: payment["id"]?.string ?? ""), method: payment["method"]?.string ?? "",
                status: Payment.Status(rawValue: payment["status"]?.string ?? "") ?? .pending,
                amount: Money(amount: Int64(payment["amount"]?.int ?? 0), currency: currency), reference: payment["reference"]?.string,
                createdAt: payment["created_at"]?.string ?? "")
        }
        let history = try connection.query("SELECT * FROM order_history WHERE order_id = ? ORDER BY id", [.text(id.rawValue)]).map { entry in
            OrderHistoryEntry(
                status: OrderStatus(rawValue: entry["status"]?.string ?? "") ?? .placed, at: entry["at"]?.string ?? "",
                actor: entry["actor"]?.string ?? "", note: entry["note"]?.string, trackingNumber: entry["tracking_number"]?.string)
        }
        let decode = { (column: String) -> [UInt8]? in row[column]?.string.map { Array($0.utf8) } }
        return Order(
            id: id, number: "#\(row["number"]?.int ?? 0)", cartId: CartID(rawValue: row["cart_id"]?.string ?? ""),
            channel: Cart.Channel(rawValue: row["channel"]?.string ?? "") ?? .online, location: row["location_code"]?.string,
            status: OrderStatus(rawValue: row["status"]?.string ?? "") ?? .placed, customerId: row["customer_id"]?.string,
            email: row["email"]?.string, currency: currency, lines: lines,
            totals: CartTotals(subtotal: money("subtotal"), discount: money("discount"), shipping: money("shipping"), tax: money("tax"),
                               total: money("total")),
            shippingAddress: try decode("shipping_address").map { try JSONCoding.decode(Address.self, from: $0) },
            billingAddress: try decode("billing_address").map { try JSONCoding.decode(Address.self, from: $0) },
            shippingMethod: try decode("shipping_method").map { try JSONCoding.decode(ShippingMethod.self, from: $0) },
            discountCodes: try JSONCoding.decode([String].self, from: decode("discount_codes") ?? Array("[]".utf8)),
            payments: payments, history: history, trackingToken: row["tracking_token"]?.string ?? "",
            trackingNumber: row["tracking_number"]?.string, createdAt: row["created_at"]?.string ?? "", updatedAt: row["updated_at"]?.string ?? "", handoverPin: nil)
    }

    static func tracking(_ order: Order) -> OrderTracking {
        OrderTracking(
            number: order.number, status: order.status, firstName: (order.shippingAddress ?? order.billingAddress)?.firstName,
            trackingNumber: order.trackingNumber, items: order.lines.map { .init(title: $0.title, quantity: $0.quantity) },
            history: order.history.map { .init(status: $0.status, at: $0.at) })
    }

    private static func json<T: Encodable>(_ value: T?) throws -> SQLiteValue {
        guard let value else { return .null }
        return .text(String(decoding: try JSONCoding.encode(value), as: UTF8.self))
    }
}

/// The payload of `order.placed` and `order.status_changed` on an order's topic.
struct StatusChanged: Encodable {
    var orderId: String
    var number: String
    var status: OrderStatus
    var actor: String
    var note: String?
    var trackingNumber: String?
}
