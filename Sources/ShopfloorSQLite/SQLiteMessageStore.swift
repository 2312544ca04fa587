import ShopfloorDomain
import ShopfloorStorage

/// The outbox in tables `messages`, `message_attempts` and `message_templates`.
struct SQLiteMessageStore: MessageStore {
    let readers: ReaderPool

    private static let columns = """
        position, id, channel, recipient, template, subject, text, html, link, status, attempts, retry_base, next_attempt_at,
        next_attempt_at_ms, last_error, skip_reason, customer_id, order_id, transactional, created_at, updated_at, sent_at, run_id, flow_id, step, opened_at, clicked_at, campaign_id
        """

    func insert(_ message: Message, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO messages (id, channel, recipient, template, subject, text, html, link, status, attempts, next_attempt_at, next_attempt_at_ms,
                last_error, skip_reason, customer_id, order_id, transactional, created_at, updated_at, sent_at, run_id, flow_id, step, campaign_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(message.id.rawValue), .text(message.channel.rawValue), .text(message.recipient), .text(message.template),
             .optional(message.subject), .text(message.text), .optional(message.html), .optional(message.link), .text(message.status.rawValue),
             .integer(Int64(message.attempts)), .optional(message.nextAttemptAt), .optional(message.nextAttemptAtMilliseconds),
             .optional(message.lastError), .optional(message.skipReason), .optional(message.customerID), .optional(message.orderID?.rawValue),
             .integer(message.transactional ? 1 : 0), .text(message.createdAt), .text(message.updatedAt), .optional(message.sentAt),
             .optional(message.origin?.runID?.rawValue), .optional(message.origin?.flowID?.rawValue), .optional(message.origin?.step),
             .optional(message.origin?.campaignID?.rawValue)])
    }

    func update(_ message: Message, retryBase: Int, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            UPDATE messages SET status = ?, attempts = ?, retry_base = ?, next_attempt_at = ?, next_attempt_at_ms = ?, last_error = ?,
                skip_reason = ?, updated_at = ?, sent_at = ? WHERE id = ?
            """,
            [.text(message.status.rawValue), .integer(Int64(message.attempts)), .integer(Int64(retryBase)), .optional(message.nextAttemptAt),
             .optional(message.nextAttemptAtMilliseconds), .optional(message.lastError), .optional(message.skipReason),
             .text(message.updatedAt), .optional(message.sentAt), .text(message.id.rawValue)])
    }

    func recordAttempt(_ attempt: MessageAttempt, in transaction: any WriteTransaction) throws {
        // A replaced row is the same attempt recorded again (its batch retried).
        try transaction.connection.run(
            "INSERT OR REPLACE INTO message_attempts (message_id, number, at, outcome, detail) VALUES (?, ?, ?, ?, ?)",
            [.text(attempt.messageID.rawValue), .integer(Int64(attempt.number)), .text(attempt.at), .text(attempt.outcome.rawValue),
             .text(attempt.detail)])
    }

    func message(_ id: MessageID) throws -> Message? {
        try readers.read { connection in try Self.load(id, connection)?.message }
    }

    func message(_ id: MessageID, in transaction: any WriteTransaction) throws -> (message: Message, retryBase: Int)? {
        try Self.load(id, transaction.connection)
    }

    func messages(_ filter: MessageFilter, before: Int64, limit: Int) throws -> [(position: Int64, message: Message)] {
        try readers.read { connection in
            var sql = "SELECT \(Self.columns) FROM messages WHERE position < ?"
            var bindings: [SQLiteValue] = [.integer(before)]
            func add(_ clause: String, _ value: String?) {
                guard let value else { return }
                sql += " AND \(clause)"
                bindings.append(.text(value))
            }
            add("channel = ?", filter.channel?.rawValue)
            add("status = ?", filter.status?.rawValue)
            add("customer_id = ?", filter.customerID)
            add("order_id = ?", filter.orderID?.rawValue)
            return try connection.query(sql + " ORDER BY position DESC LIMIT ?", bindings + [.integer(Int64(limit))]).map { values in
                let row = StoredRow(values, table: "messages", keyColumn: "id")
                return (try row.int64("position"), try Self.message(row))
            }
        }
    }

    func due(channel: MessageChannel, at milliseconds: Int64, limit: Int) throws -> [(message: Message, retryBase: Int)] {
        try readers.read { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM messages
                WHERE status = 'queued' AND channel = ? AND next_attempt_at_ms <= ? ORDER BY next_attempt_at_ms, position LIMIT ?
                """,
                [.text(channel.rawValue), .integer(milliseconds), .integer(Int64(limit))]
            ).map { values in
                let row = StoredRow(values, table: "messages", keyColumn: "id")
                return (try Self.message(row), try row.int("retry_base"))
            }
        }
    }

    func attempts(of id: MessageID) throws -> [MessageAttempt] {
        try readers.read { connection in
            try connection.query("SELECT number, at, outcome, detail FROM message_attempts WHERE message_id = ? ORDER BY number",
                                 [.text(id.rawValue)]).map { values in
                let row = StoredRow(values, table: "message_attempts", keyColumn: "number")
                return MessageAttempt(messageID: id, number: try row.int("number"), at: try row.text("at"),
                                      outcome: try row.value("outcome", as: MessageAttempt.Outcome.self), detail: try row.text("detail"))
            }
        }
    }

    func suppress(_ suppression: Suppression, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO suppressions (address, channel, reason, detail, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (address, channel) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,
                message_id = excluded.message_id, created_at = excluded.created_at
            WHERE suppressions.reason <> 'bounced' AND excluded.reason = 'bounced'
            """,
            [.text(suppression.address), .text(suppression.channel.rawValue), .text(suppression.reason), .text(suppression.detail),
             .optional(suppression.messageID?.rawValue), .text(suppression.createdAt)])
    }

    func isSuppressed(_ address: String, channel: MessageChannel, transactional: Bool, in transaction: any WriteTransaction) throws -> Bool {
        try !transaction.connection.query(
            "SELECT 1 FROM suppressions WHERE address = ? AND channel = ? AND (reason = 'bounced' OR ? = 0)",
            [.text(address), .text(channel.rawValue), .integer(transactional ? 1 : 0)]).isEmpty
    }

    func suppressions() throws -> [Suppression] {
        try readers.read { connection in
            try connection.query(
                "SELECT address, channel, reason, detail, message_id, created_at FROM suppressions ORDER BY created_at DESC, address"
            ).map { values in
                let row = StoredRow(values, table: "suppressions", keyColumn: "address")
                return Suppression(
                    address: try row.text("address"), channel: try row.value("channel", as: MessageChannel.self), reason: try row.text("reason"),
                    detail: try row.text("detail"), messageID: try row.optionalText("message_id").map(MessageID.init(rawValue:)),
                    createdAt: try row.text("created_at"))
            }
        }
    }

    func unsuppress(_ address: String, channel: MessageChannel, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("DELETE FROM suppressions WHERE address = ? AND channel = ?", [.text(address), .text(channel.rawValue)]) > 0
    }

    func lastMarketing(customer: String, channels: [MessageChannel], in transaction: any WriteTransaction) throws -> String? {
        let marks = channels.map { _ in "?" }.joined(separator: ", ")
        let values = try transaction.connection.query(
            """
            SELECT max(coalesce(sent_at, next_attempt_at)) AS at FROM messages
            WHERE customer_id = ? AND channel IN (\(marks)) AND transactional = 0 AND status NOT IN ('failed', 'skipped')
            """,
            [.text(customer)] + channels.map { .text($0.rawValue) }).first ?? [:]
        return try StoredRow(values, table: "messages", keyColumn: "at").optionalText("at")
    }

    func queued(of origin: QueuedOrigin, in transaction: any WriteTransaction) throws -> [(message: Message, retryBase: Int)] {
        let (column, value) = switch origin {
        case .run(let run): ("run_id", run.rawValue)
        case .campaign(let campaign): ("campaign_id", campaign.rawValue)
        }
        return try transaction.connection.query("SELECT \(Self.columns) FROM messages WHERE \(column) = ? AND status = 'queued'", [.text(value)])
            .map { values in
                let row = StoredRow(values, table: "messages", keyColumn: "id")
                return (try Self.message(row), try row.int("retry_base"))
            }
    }

    func setEngagement(_ message: Message, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE messages SET status = ?, opened_at = ?, clicked_at = ?, updated_at = ? WHERE id = ?",
                                       [.text(message.status.rawValue), .optional(message.openedAt), .optional(message.clickedAt),
                                        .text(message.updatedAt), .text(message.id.rawValue)])
    }

    func lastEngaged(customer: String, clickedSince: String, openedSince: String, in transaction: any WriteTransaction) throws -> Message? {
        for (column, since) in [("clicked_at", clickedSince), ("opened_at", openedSince)] {
            if let values = try transaction.connection.query(
                """
                SELECT \(Self.columns) FROM messages INDEXED BY messages_by_customer
                WHERE customer_id = ? AND (flow_id IS NOT NULL OR campaign_id IS NOT NULL) AND \(column) >= ? ORDER BY \(column) DESC LIMIT 1
                """, [.text(customer), .text(since)]).first {
                return try Self.message(StoredRow(values, table: "messages", keyColumn: "id"))
            }
        }
        return nil
    }

    func countOutcome(_ outcome: String, source: String, step: String, amount: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO message_outcomes (source, step, outcome, n) VALUES (?, ?, ?, ?)
            ON CONFLICT (source, step, outcome) DO UPDATE SET n = n + excluded.n
            """,
            [.text(source), .text(step), .text(outcome), .integer(amount)])
    }

    func outcomes(of source: String) throws -> [String: [String: Int64]] {
        try readers.read { connection in
            var counters: [String: [String: Int64]] = [:]
            for values in try connection.query("SELECT step, outcome, n FROM message_outcomes WHERE source = ?", [.text(source)]) {
                let row = StoredRow(values, table: "message_outcomes", keyColumn: "step")
                counters[try row.text("step"), default: [:]][try row.text("outcome")] = try row.int64("n")
            }
            return counters
        }
    }

    func credit(order: OrderID, to message: Message, amount: Money, at: String, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run(
            """
            INSERT INTO attributions (order_id, message_id, flow_id, run_id, step, amount, currency, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (order_id) DO NOTHING
            """,
            [.text(order.rawValue), .text(message.id.rawValue), .optional(message.origin?.flowID?.rawValue ?? message.origin?.campaignID?.rawValue),
             .optional(message.origin?.runID?.rawValue), .optional(message.origin?.step), .integer(amount.amount), .text(amount.currency.code),
             .text(at)]) > 0
    }

    func templateOverrides() throws -> [TemplateText] {
        try readers.read { connection in
            try connection.query("SELECT name, locale, subject, text, html, short, updated_at FROM message_templates ORDER BY name, locale").map { values in
                let row = StoredRow(values, table: "message_templates", keyColumn: "name")
                return TemplateText(name: try row.text("name"), locale: try row.text("locale"), subject: try row.optionalText("subject"),
                                    text: try row.text("text"), html: try row.optionalText("html"), short: try row.optionalText("short"),
                                    updatedAt: try row.text("updated_at"))
            }
        }
    }

    func saveTemplate(_ template: TemplateText, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT OR REPLACE INTO message_templates (name, locale, subject, text, html, short, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(template.name), .text(template.locale), .optional(template.subject), .text(template.text), .optional(template.html),
             .optional(template.short), .text(template.updatedAt ?? "")])
    }

    private static func load(_ id: MessageID, _ connection: SQLiteConnection) throws -> (message: Message, retryBase: Int)? {
        guard let values = try connection.query("SELECT \(columns) FROM messages WHERE id = ?", [.text(id.rawValue)]).first else { return nil }
        let row = StoredRow(values, table: "messages", keyColumn: "id")
        return (try message(row), try row.int("retry_base"))
    }

    private static func message(_ row: StoredRow) throws -> Message {
        Message(
            id: try row.id("id", as: MessageID.self), channel: try row.value("channel", as: MessageChannel.self), recipient: try row.text("recipient"),
            template: try row.text("template"), subject: try row.optionalText("subject"), text: try row.text("text"),
            html: try row.optionalText("html"), link: try row.optionalText("link"), status: try row.value("status", as: MessageStatus.self), attempts: try row.int("attempts"),
            nextAttemptAt: try row.optionalText("next_attempt_at"), nextAttemptAtMilliseconds: try row.optionalInt("next_attempt_at_ms").map(Int64.init),
            lastError: try row.optionalText("last_error"), skipReason: try row.optionalText("skip_reason"),
            customerID: try row.optionalText("customer_id"), orderID: try row.optionalText("order_id").map(OrderID.init(rawValue:)),
            transactional: try row.bool("transactional"), createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"),
            sentAt: try row.optionalText("sent_at"), origin: try origin(row), openedAt: try row.optionalText("opened_at"),
            clickedAt: try row.optionalText("clicked_at"))
    }

    private static func origin(_ row: StoredRow) throws -> MessageOrigin? {
        let flow = try row.optionalText("flow_id").map(FlowID.init(rawValue:))
        let campaign = try row.optionalText("campaign_id").map(CampaignID.init(rawValue:))
        guard flow != nil || campaign != nil else { return nil }
        return MessageOrigin(flowID: flow, runID: try row.optionalText("run_id").map(RunID.init(rawValue:)), step: try row.optionalText("step"),
                             campaignID: campaign)
    }
}
