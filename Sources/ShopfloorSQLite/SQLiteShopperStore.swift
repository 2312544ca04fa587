import ShopfloorDomain
import ShopfloorStorage

/// Visitors, their `activity`, `conversations` with their `conversation_messages`, and offers (rows of
/// `discounts` issued for `offer:<visitor>`) — migration 16. A visitor's customer is kept as the
/// customer's `seq`, as the customer tables do, so a merge or an erasure moves or drops it with the rest.
struct SQLiteShopperStore: ShopperStore {
    let readers: ReaderPool

    func visitor(_ id: VisitorID) throws -> VisitorRecord? {
        try readers.read { connection in
            try connection.query(
                "SELECT v.id, c.id AS customer_id, v.stage FROM visitors v LEFT JOIN customers c ON c.seq = v.customer_seq WHERE v.id = ?",
                [.text(id.rawValue)]
            ).first.map { values in
                let row = StoredRow(values, table: "visitors", keyColumn: "id")
                return VisitorRecord(
                    id: id, customerID: try row.optionalText("customer_id").map(CustomerID.init(rawValue:)),
                    stage: try row.value("stage", as: ShopperStage.self))
            }
        }
    }

    func insertVisitor(_ id: VisitorID, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT OR IGNORE INTO visitors (id, first_seen, last_seen) VALUES (?, ?, ?)", [.text(id.rawValue), .text(at), .text(at)])
    }

    func setStage(_ stage: ShopperStage, of id: VisitorID, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "UPDATE visitors SET stage = ?, last_seen = ? WHERE id = ?", [.text(stage.rawValue), .text(at), .text(id.rawValue)])
    }

    func setLive(_ live: Bool, of id: VisitorID, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE visitors SET live = ? WHERE id = ?", [.integer(live ? 1 : 0), .text(id.rawValue)])
    }

    func liveVisitors() throws -> [VisitorID] {
        try readers.read { connection in
            var ids: [VisitorID] = []
            try connection.forEachRow("SELECT id FROM visitors WHERE live = 1") { ids.append(VisitorID(rawValue: $0.text(0))) }
            return ids
        }
    }

    func record(_ activity: StoredActivity, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        try connection.run(
            "INSERT INTO activity (visitor, type, product_id, category, data, at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(activity.visitor.rawValue), .text(activity.kind.rawValue), .optional(activity.productID?.rawValue), .optional(activity.category),
             .text(activity.data), .text(activity.at)])
        if let customer = activity.customer, let product = activity.productID {
            try connection.run(
                "INSERT INTO customer_views (customer_seq, product_id, category, at) SELECT seq, ?, ?, ? FROM customers WHERE id = ? AND erased_at IS NULL",
                [.text(product.rawValue), .optional(activity.category), .text(activity.at), .text(customer.rawValue)])
        }
    }

    func link(_ id: VisitorID, to customer: CustomerID, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        guard let found = try connection.query("SELECT seq FROM customers WHERE id = ? AND erased_at IS NULL", [.text(customer.rawValue)]).first
        else { return }
        let seq = found["seq"] ?? .null
        let previous = try connection.query("SELECT customer_seq FROM visitors WHERE id = ?", [.text(id.rawValue)]).first?["customer_seq"] ?? .null
        try connection.run("UPDATE visitors SET customer_seq = ? WHERE id = ?", [seq, .text(id.rawValue)])
        // Views made while anonymous (or as someone else) become this customer's once.
        if previous != seq {
            try connection.run(
                """
                INSERT INTO customer_views (customer_seq, product_id, category, at)
                SELECT ?, product_id, category, at FROM activity WHERE visitor = ? AND type = 'product.viewed' AND product_id IS NOT NULL
                """, [seq, .text(id.rawValue)])
        }
        try connection.run("UPDATE conversations SET customer_seq = ? WHERE visitor = ?", [seq, .text(id.rawValue)])
    }

    func activeCarts() throws -> [(cart: CartID, lines: Int, step: String)] {
        try readers.read { connection in
            var carts: [(cart: CartID, lines: Int, step: String)] = []
            try connection.forEachRow(
                "SELECT c.id, (SELECT count(*) FROM cart_lines l WHERE l.cart_id = c.id), c.checkout_step FROM carts c WHERE c.status = 'active'"
            ) { statement in
                carts.append((CartID(rawValue: statement.text(0)), statement.int(1), statement.text(2)))
            }
            return carts
        }
    }

    func placedOrder(fromCart cart: CartID) throws -> (total: Money, offers: Int)? {
        try readers.read { connection in
            try connection.query(
                """
                SELECT o.total, o.currency, (SELECT count(*) FROM json_each(o.discount_codes) j
                    JOIN discounts d ON d.code = j.value AND d.issued_for LIKE 'offer:%') AS offers
                FROM orders o WHERE o.cart_id = ?
                """, [.text(cart.rawValue)]
            ).first.map { values in
                let row = StoredRow(values, table: "orders", keyColumn: "cart_id")
                return (Money(amount: try row.int64("total"), currency: try row.currency("currency")), try row.int("offers"))
            }
        }
    }

    func pruneActivity(before cutoff: String, in transaction: any WriteTransaction) throws -> Int {
        try transaction.connection.run(
            """
            DELETE FROM activity WHERE id < COALESCE(
                (SELECT id FROM activity WHERE at >= ?1 ORDER BY id LIMIT 1), (SELECT MAX(id) + 1 FROM activity))
            """, [.text(cutoff)])
    }

    // MARK: Conversations

    func conversation(ofVisitor id: VisitorID) throws -> ConversationID? {
        try readers.read { connection in
            try connection.query("SELECT id FROM conversations WHERE visitor = ? ORDER BY position DESC LIMIT 1", [.text(id.rawValue)])
                .first.map { try StoredRow($0, table: "conversations", keyColumn: "id").id("id", as: ConversationID.self) }
        }
    }

    func insertConversation(_ id: ConversationID, visitor: VisitorID, customer: CustomerID?, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO conversations (id, visitor, customer_seq, created_at, updated_at)
            VALUES (?, ?, (SELECT seq FROM customers WHERE id = ?), ?, ?)
            """, [.text(id.rawValue), .text(visitor.rawValue), .optional(customer?.rawValue), .text(at), .text(at)])
    }

    func append(_ message: ConversationMessage, to id: ConversationID, in transaction: any WriteTransaction) throws {
        let connection = transaction.connection
        // A conversation moves to the top of the list when written to: its position is renewed.
        try connection.run(
            "UPDATE conversations SET position = (SELECT max(position) + 1 FROM conversations), updated_at = ? WHERE id = ?",
            [.text(message.at), .text(id.rawValue)])
        try connection.run(
            """
            INSERT INTO conversation_messages (conversation_id, n, sender, author, text, offer_code, at)
            VALUES (?1, coalesce((SELECT max(n) FROM conversation_messages WHERE conversation_id = ?1), 0) + 1, ?, ?, ?, ?, ?)
            """,
            [.text(id.rawValue), .text(message.from.rawValue), .optional(message.author), .optional(message.text), .optional(message.offer?.code),
             .text(message.at)])
    }

    func conversations(limit: Int, before position: Int64?) throws -> [(position: Int64, conversation: Conversation)] {
        try readers.read { connection in
            try connection.query(
                "\(Self.select) WHERE c.position < ? ORDER BY c.position DESC LIMIT ?", [.integer(position ?? .max), .integer(Int64(limit))]
            ).map { values in
                let position = try StoredRow(values, table: "conversations", keyColumn: "id").int64("position")
                var conversation = try Self.conversation(values)
                conversation.messages = try Self.messages(of: conversation.id, last: true, connection)
                return (position, conversation)
            }
        }
    }

    func conversation(_ id: ConversationID) throws -> Conversation? {
        try readers.read { connection in
            guard let values = try connection.query("\(Self.select) WHERE c.id = ?", [.text(id.rawValue)]).first else { return nil }
            var conversation = try Self.conversation(values)
            conversation.messages = try Self.messages(of: id, last: false, connection)
            return conversation
        }
    }

    private static let select = "SELECT c.*, k.id AS customer_id FROM conversations c LEFT JOIN customers k ON k.seq = c.customer_seq"

    private static func conversation(_ values: SQLiteConnection.Row) throws -> Conversation {
        let row = StoredRow(values, table: "conversations", keyColumn: "id")
        return Conversation(
            id: try row.id("id", as: ConversationID.self), visitor: try row.id("visitor", as: VisitorID.self),
            customerID: try row.optionalText("customer_id").map(CustomerID.init(rawValue:)), createdAt: try row.text("created_at"),
            updatedAt: try row.text("updated_at"), messages: [])
    }

    private static func messages(of id: ConversationID, last: Bool, _ connection: SQLiteConnection) throws -> [ConversationMessage] {
        let rows = try connection.query(
            """
            SELECT m.*, \(offerColumns) FROM conversation_messages m LEFT JOIN discounts d ON d.code = m.offer_code
            WHERE m.conversation_id = ? ORDER BY m.n \(last ? "DESC LIMIT 1" : "")
            """, [.text(id.rawValue)])
        return try rows.map { values in
            let row = StoredRow(values, table: "conversation_messages", keyColumn: "n")
            return ConversationMessage(
                from: try row.value("sender", as: ConversationMessage.Sender.self), author: try row.optionalText("author"),
                text: try row.optionalText("text"), offer: try row.optionalText("offer_code") == nil ? nil : try offer(values), at: try row.text("at"))
        }
    }

    // MARK: Offers

    private static let offerColumns = """
        d.code AS offer_code, d.kind AS offer_kind, d.value AS offer_value, d.currency AS offer_currency, d.ends_at AS offer_ends_at,
        d.issued_for AS offer_issued_for, d.customer_id AS offer_customer_id, d.cart_id AS offer_cart_id, d.accepted_at AS offer_accepted_at,
        d.uses AS offer_uses
        """

    func offer(code: String) throws -> Offer? {
        try readers.read { connection in
            try connection.query(
                "SELECT \(Self.offerColumns) FROM discounts d WHERE d.code = ? AND d.issued_for LIKE 'offer:%'", [.text(code)]
            ).first.map(Self.offer)
        }
    }

    func accept(offer code: String, cart: CartID, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            UPDATE discounts SET accepted_at = coalesce(accepted_at, ?), cart_id = coalesce(cart_id, ?), customer_id = NULL
            WHERE code = ? AND issued_for LIKE 'offer:%'
            """, [.text(at), .text(cart.rawValue), .text(code)])
    }

    private static func offer(_ values: SQLiteConnection.Row) throws -> Offer {
        let row = StoredRow(values, table: "discounts", keyColumn: "offer_code")
        let source = try row.text("offer_issued_for")
        return Offer(
            code: try row.text("offer_code"), kind: try row.value("offer_kind", as: Discount.Kind.self), value: try row.int64("offer_value"),
            currency: try row.optionalText("offer_currency").map { _ in try row.currency("offer_currency") }, expiresAt: try row.text("offer_ends_at"),
            visitor: VisitorID(rawValue: String(source.dropFirst("offer:".count))), customerID: try row.optionalText("offer_customer_id"),
            cartID: try row.optionalText("offer_cart_id"), acceptedAt: try row.optionalText("offer_accepted_at"), redeemed: try row.int("offer_uses") > 0)
    }
}
