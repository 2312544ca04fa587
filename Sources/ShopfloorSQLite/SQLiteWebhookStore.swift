import ShopfloorDomain
import ShopfloorStorage

/// Integrator webhooks in tables `webhook_endpoints`, `webhook_deliveries`, `webhook_attempts` and
/// `webhook_dispatch` (migration 11).
struct SQLiteWebhookStore: WebhookStore {
    let readers: ReaderPool

    private static let endpointColumns = "id, url, events, description, status, disabled_reason, start_seq, secrets, created_at, updated_at"
    private static let deliveryColumns = """
        position, id, endpoint_id, event_seq, event_type, payload, status, attempts, retry_base, next_attempt_at_ms, last_status_code,
        last_error, created_at, updated_at
        """

    /// A secret as the `secrets` column holds it.
    private struct StoredSecret: Codable {
        var sealed: String
        var expiresAtMs: Int64?
    }

    // MARK: Endpoints

    func insert(_ endpoint: WebhookEndpoint, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO webhook_endpoints (\(Self.endpointColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            try Self.bindings(endpoint))
    }

    func update(_ endpoint: WebhookEndpoint, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            UPDATE webhook_endpoints SET id = ?, url = ?, events = ?, description = ?, status = ?, disabled_reason = ?, start_seq = ?,
                secrets = ?, created_at = ?, updated_at = ? WHERE id = ?
            """,
            try Self.bindings(endpoint) + [.text(endpoint.id.rawValue)])
    }

    func delete(_ id: WebhookEndpointID, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("DELETE FROM webhook_endpoints WHERE id = ?", [.text(id.rawValue)]) > 0
    }

    func endpoint(_ id: WebhookEndpointID) throws -> WebhookEndpoint? {
        try readers.read { connection in try Self.endpoint(id, connection) }
    }

    func endpoint(_ id: WebhookEndpointID, in transaction: any WriteTransaction) throws -> WebhookEndpoint? {
        try Self.endpoint(id, transaction.connection)
    }

    func endpoints() throws -> [WebhookEndpoint] {
        try readers.read { connection in
            try connection.query("SELECT \(Self.endpointColumns) FROM webhook_endpoints ORDER BY position").map { try Self.endpoint($0) }
        }
    }

    // MARK: Dispatch mark

    func dispatchedSeq() throws -> Int64 {
        try readers.read { connection in
            try connection.query("SELECT seq FROM webhook_dispatch WHERE id = 1").first.map {
                try StoredRow($0, table: "webhook_dispatch", keyColumn: "seq").int64("seq")
            } ?? 0
        }
    }

    func setDispatchedSeq(_ seq: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO webhook_dispatch (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq", [.integer(seq)])
    }

    // MARK: Deliveries

    func insert(_ delivery: WebhookDelivery, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, event_type, payload, status, attempts, next_attempt_at_ms, last_status_code,
                last_error, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (endpoint_id, event_seq) DO NOTHING
            """,
            [.text(delivery.id.rawValue), .text(delivery.endpointID.rawValue), .integer(delivery.eventSeq), .text(delivery.eventType),
             .text(delivery.payload), .text(delivery.status.rawValue), .integer(Int64(delivery.attempts)),
             .optional(delivery.nextAttemptAtMilliseconds), .optional(delivery.lastStatusCode), .optional(delivery.lastError),
             .text(delivery.createdAt), .text(delivery.updatedAt)])
    }

    func update(_ delivery: WebhookDelivery, retryBase: Int, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            UPDATE webhook_deliveries SET status = ?, attempts = ?, retry_base = ?, next_attempt_at_ms = ?, last_status_code = ?, last_error = ?,
                updated_at = ? WHERE id = ?
            """,
            [.text(delivery.status.rawValue), .integer(Int64(delivery.attempts)), .integer(Int64(retryBase)),
             .optional(delivery.nextAttemptAtMilliseconds), .optional(delivery.lastStatusCode), .optional(delivery.lastError),
             .text(delivery.updatedAt), .text(delivery.id.rawValue)])
    }

    func recordAttempt(_ attempt: WebhookAttempt, in transaction: any WriteTransaction) throws {
        // A replaced row is the same attempt recorded again (its batch retried).
        try transaction.connection.run(
            """
            INSERT OR REPLACE INTO webhook_attempts (delivery_id, number, at, request_headers, status_code, response_excerpt, error, duration_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(attempt.deliveryID.rawValue), .integer(Int64(attempt.number)), .text(attempt.at), try .json(encoding: attempt.requestHeaders),
             .optional(attempt.statusCode), .optional(attempt.responseExcerpt), .optional(attempt.error),
             .integer(Int64(attempt.durationMilliseconds))])
    }

    func delivery(_ id: WebhookDeliveryID) throws -> WebhookDelivery? {
        try readers.read { connection in try Self.delivery(id, connection)?.delivery }
    }

    func delivery(_ id: WebhookDeliveryID, in transaction: any WriteTransaction) throws -> WebhookDelivery? {
        try Self.delivery(id, transaction.connection)?.delivery
    }

    func deliveries(of endpoint: WebhookEndpointID, status: WebhookDelivery.Status?, before: Int64, limit: Int) throws
        -> [(position: Int64, delivery: WebhookDelivery)] {
        try readers.read { connection in
            var sql = "SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE endpoint_id = ? AND position < ?"
            var bindings: [SQLiteValue] = [.text(endpoint.rawValue), .integer(before)]
            if let status {
                sql += " AND status = ?"
                bindings.append(.text(status.rawValue))
            }
            return try connection.query(sql + " ORDER BY position DESC LIMIT ?", bindings + [.integer(Int64(limit))]).map { values in
                let (position, delivery, _) = try Self.delivery(values)
                return (position, delivery)
            }
        }
    }

    func due(at milliseconds: Int64, limit: Int) throws -> [(delivery: WebhookDelivery, retryBase: Int)] {
        try readers.read { connection in
            try connection.query(
                """
                SELECT d.position, d.id, d.endpoint_id, d.event_seq, d.event_type, d.payload, d.status, d.attempts, d.retry_base,
                    d.next_attempt_at_ms, d.last_status_code, d.last_error, d.created_at, d.updated_at
                FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE d.status = 'pending' AND d.next_attempt_at_ms <= ? AND e.status = 'enabled'
                ORDER BY d.next_attempt_at_ms, d.position LIMIT ?
                """,
                [.integer(milliseconds), .integer(Int64(limit))]
            ).map { values in
                let (_, delivery, retryBase) = try Self.delivery(values)
                return (delivery, retryBase)
            }
        }
    }

    func attempts(of id: WebhookDeliveryID) throws -> [WebhookAttempt] {
        try readers.read { connection in
            try connection.query(
                """
                SELECT number, at, request_headers, status_code, response_excerpt, error, duration_ms FROM webhook_attempts
                WHERE delivery_id = ? ORDER BY number
                """,
                [.text(id.rawValue)]
            ).map { values in
                let row = StoredRow(values, table: "webhook_attempts", keyColumn: "number")
                return WebhookAttempt(
                    deliveryID: id, number: try row.int("number"), at: try row.text("at"),
                    requestHeaders: try row.json("request_headers", as: [String: String].self), statusCode: try row.optionalInt("status_code"),
                    responseExcerpt: try row.optionalText("response_excerpt"), error: try row.optionalText("error"),
                    durationMilliseconds: try row.int("duration_ms"))
            }
        }
    }

    func pruneDeliveries(settledBefore cutoff: String, in transaction: any WriteTransaction) throws -> Int {
        try transaction.connection.run(
            "DELETE FROM webhook_deliveries WHERE status IN ('succeeded', 'failed') AND updated_at < ?", [.text(cutoff)])
    }

    // MARK: Rows

    private static func bindings(_ endpoint: WebhookEndpoint) throws -> [SQLiteValue] {
        let secrets = endpoint.secrets.map { StoredSecret(sealed: $0.sealed, expiresAtMs: $0.expiresAtMilliseconds) }
        return [.text(endpoint.id.rawValue), .text(endpoint.url), try .json(encoding: endpoint.events), .optional(endpoint.description),
                .text(endpoint.status.rawValue), .optional(endpoint.disabledReason), .integer(endpoint.startSeq), try .json(encoding: secrets),
                .text(endpoint.createdAt), .text(endpoint.updatedAt)]
    }

    private static func endpoint(_ id: WebhookEndpointID, _ connection: SQLiteConnection) throws -> WebhookEndpoint? {
        try connection.query("SELECT \(endpointColumns) FROM webhook_endpoints WHERE id = ?", [.text(id.rawValue)]).first.map { try endpoint($0) }
    }

    private static func endpoint(_ values: SQLiteConnection.Row) throws -> WebhookEndpoint {
        let row = StoredRow(values, table: "webhook_endpoints", keyColumn: "id")
        return WebhookEndpoint(
            id: try row.id("id", as: WebhookEndpointID.self), url: try row.text("url"), events: try row.json("events", as: [String].self),
            description: try row.optionalText("description"), status: try row.value("status", as: WebhookEndpoint.Status.self),
            disabledReason: try row.optionalText("disabled_reason"), startSeq: try row.int64("start_seq"),
            secrets: try row.json("secrets", as: [StoredSecret].self).map { WebhookSecret(sealed: $0.sealed, expiresAtMilliseconds: $0.expiresAtMs) },
            createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"))
    }

    private static func delivery(_ id: WebhookDeliveryID, _ connection: SQLiteConnection) throws
        -> (position: Int64, delivery: WebhookDelivery, retryBase: Int)? {
        try connection.query("SELECT \(deliveryColumns) FROM webhook_deliveries WHERE id = ?", [.text(id.rawValue)]).first.map { try delivery($0) }
    }

    private static func delivery(_ values: SQLiteConnection.Row) throws -> (position: Int64, delivery: WebhookDelivery, retryBase: Int) {
        let row = StoredRow(values, table: "webhook_deliveries", keyColumn: "id")
        let delivery = WebhookDelivery(
            id: try row.id("id", as: WebhookDeliveryID.self), endpointID: try row.id("endpoint_id", as: WebhookEndpointID.self),
            eventSeq: try row.int64("event_seq"), eventType: try row.text("event_type"), payload: try row.text("payload"),
            status: try row.value("status", as: WebhookDelivery.Status.self), attempts: try row.int("attempts"),
            nextAttemptAtMilliseconds: try row.optionalInt("next_attempt_at_ms").map(Int64.init), lastStatusCode: try row.optionalInt("last_status_code"),
            lastError: try row.optionalText("last_error"), createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"))
        return (try row.int64("position"), delivery, try row.int("retry_base"))
    }
}
