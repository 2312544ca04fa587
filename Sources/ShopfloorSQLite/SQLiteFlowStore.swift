import ShopfloorDomain
import ShopfloorJSON
import ShopfloorStorage

/// Flows, their versions, runs, per-step counters and the automation mark, in tables `flows`,
/// `flow_versions`, `flow_runs`, `flow_stats` and `automation_mark` (migration 18). A run's place
/// and log are JSON in `state`; what runs are looked up by (customer, cart, awaited message) are
/// columns with partial indexes over active runs only.
struct SQLiteFlowStore: FlowStore {
    let readers: ReaderPool

    private static let flowColumns = """
        f.position, f.id, f.name, f.status, f.version, f.active_since, f.created_at, f.updated_at, v.definition
        """
    private static let flowJoin = "flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.version"
    private static let runColumns = """
        seq, id, flow_id, version, entry_key, status, customer_id, cart_id, order_id, state, next_at, exit_reason, entered_at, updated_at
        """

    // MARK: Flows

    func insert(_ flow: Flow, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO flows (id, name, status, version, active_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(flow.id.rawValue), .text(flow.name), .text(flow.status.rawValue), .integer(Int64(flow.version)), .integer(flow.activeSince),
             .text(flow.createdAt), .text(flow.updatedAt)])
    }

    func update(_ flow: Flow, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "UPDATE flows SET name = ?, status = ?, version = ?, active_since = ?, updated_at = ? WHERE id = ?",
            [.text(flow.name), .text(flow.status.rawValue), .integer(Int64(flow.version)), .integer(flow.activeSince), .text(flow.updatedAt),
             .text(flow.id.rawValue)])
    }

    func insertVersion(_ version: Int, of flow: FlowID, document: JSONValue, at: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO flow_versions (flow_id, version, definition, created_at) VALUES (?, ?, ?, ?)",
            [.text(flow.rawValue), .integer(Int64(version)), .optionalJSON(document), .text(at)])
    }

    func flow(_ id: FlowID) throws -> (flow: Flow, position: Int64)? {
        try readers.read { connection in
            try connection.query("SELECT \(Self.flowColumns) FROM \(Self.flowJoin) WHERE f.id = ?", [.text(id.rawValue)]).first.map { values in
                let (position, flow) = try Self.flow(values)
                return (flow, position)
            }
        }
    }

    func flows(before: Int64, limit: Int) throws -> [(position: Int64, flow: Flow)] {
        try readers.read { connection in
            try connection.query("SELECT \(Self.flowColumns) FROM \(Self.flowJoin) WHERE f.position < ? ORDER BY f.position DESC LIMIT ?",
                                 [.integer(before), .integer(Int64(limit))]).map(Self.flow)
        }
    }

    func activeFlows() throws -> [Flow] {
        try readers.read { connection in
            try connection.query("SELECT \(Self.flowColumns) FROM \(Self.flowJoin) WHERE f.status = 'active' ORDER BY f.position").map { try Self.flow($0).flow }
        }
    }

    func document(of flow: FlowID, version: Int) throws -> JSONValue? {
        try readers.read { connection in
            guard let values = try connection.query("SELECT definition FROM flow_versions WHERE flow_id = ? AND version = ?",
                                                     [.text(flow.rawValue), .integer(Int64(version))]).first else { return nil }
            return try StoredRow(values, table: "flow_versions", keyColumn: "definition").optionalJSONValue("definition")
        }
    }

    private static func flow(_ values: SQLiteConnection.Row) throws -> (position: Int64, flow: Flow) {
        let row = StoredRow(values, table: "flows", keyColumn: "id")
        guard let document = try row.optionalJSONValue("definition") else { throw StoreError.badRow(table: "flows", key: row.key, column: "definition") }
        return (try row.int64("position"), Flow(
            id: try row.id("id", as: FlowID.self), name: try row.text("name"), status: try row.value("status", as: FlowStatus.self),
            version: try row.int("version"), activeSince: try row.int64("active_since"), document: document, createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at")))
    }

    // MARK: Runs

    func insert(_ run: FlowRun, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run(
            """
            INSERT INTO flow_runs (id, flow_id, version, entry_key, status, customer_id, cart_id, order_id, state, next_at, exit_reason,
                entered_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (flow_id, entry_key) DO NOTHING
            """,
            [.text(run.id.rawValue), .text(run.flowID.rawValue), .integer(Int64(run.version)), .text(run.entryKey), .text(run.status.rawValue),
             .optional(run.customerID?.rawValue), .optional(run.cartID?.rawValue), .optional(run.orderID?.rawValue), try .json(encoding: run.state),
             .optional(run.nextAt), .optional(run.exitReason), .text(run.enteredAt), .text(run.updatedAt)]) > 0
    }

    func update(_ run: FlowRun, awaiting message: MessageID?, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "UPDATE flow_runs SET status = ?, state = ?, awaiting_message = ?, next_at = ?, exit_reason = ?, updated_at = ? WHERE id = ?",
            [.text(run.status.rawValue), try .json(encoding: run.state), .optional(message?.rawValue), .optional(run.nextAt),
             .optional(run.exitReason), .text(run.updatedAt), .text(run.id.rawValue)])
    }

    func run(_ id: RunID, in transaction: any WriteTransaction) throws -> FlowRun? {
        try transaction.connection.query("SELECT \(Self.runColumns) FROM flow_runs WHERE id = ?", [.text(id.rawValue)]).first.map { try Self.run($0).run }
    }

    func run(_ id: RunID) throws -> FlowRun? {
        try readers.read { connection in
            try connection.query("SELECT \(Self.runColumns) FROM flow_runs WHERE id = ?", [.text(id.rawValue)]).first.map { try Self.run($0).run }
        }
    }

    func activeRuns(customer: CustomerID?, cart: CartID?, in transaction: any WriteTransaction) throws -> [FlowRun] {
        var found: [FlowRun] = []
        if let customer {
            found += try transaction.connection.query(
                "SELECT \(Self.runColumns) FROM flow_runs WHERE customer_id = ? AND status = 'active'", [.text(customer.rawValue)]
            ).map { try Self.run($0).run }
        }
        if let cart {
            found += try transaction.connection.query(
                "SELECT \(Self.runColumns) FROM flow_runs WHERE cart_id = ? AND status = 'active'", [.text(cart.rawValue)]
            ).map { try Self.run($0).run }.filter { run in !found.contains { $0.id == run.id } }
        }
        return found
    }

    func hasActiveRuns() throws -> Bool {
        try readers.read { connection in
            try !connection.query("SELECT 1 FROM flow_runs WHERE status = 'active' LIMIT 1").isEmpty
        }
    }

    func runs(of flow: FlowID, status: RunStatus?, before: Int64, limit: Int) throws -> [(position: Int64, run: FlowRun)] {
        try readers.read { connection in
            var sql = "SELECT \(Self.runColumns) FROM flow_runs WHERE flow_id = ? AND seq < ?"
            var bindings: [SQLiteValue] = [.text(flow.rawValue), .integer(before)]
            if let status {
                sql += " AND status = ?"
                bindings.append(.text(status.rawValue))
            }
            return try connection.query(sql + " ORDER BY seq DESC LIMIT ?", bindings + [.integer(Int64(limit))]).map(Self.run)
        }
    }

    func ordered(customer: CustomerID?, cart: CartID?, since: String, excluding: OrderID?, in transaction: any WriteTransaction) throws -> Bool {
        let other = SQLiteValue.text(excluding?.rawValue ?? "")
        if let customer, try !transaction.connection.query(
            "SELECT 1 FROM orders WHERE customer_id = ? AND created_at > ? AND id <> ? LIMIT 1", [.text(customer.rawValue), .text(since), other]
        ).isEmpty {
            return true
        }
        if let cart, try !transaction.connection.query(
            "SELECT 1 FROM orders WHERE cart_id = ? AND created_at > ? AND id <> ?", [.text(cart.rawValue), .text(since), other]
        ).isEmpty {
            return true
        }
        return false
    }

    private static func run(_ values: SQLiteConnection.Row) throws -> (position: Int64, run: FlowRun) {
        let row = StoredRow(values, table: "flow_runs", keyColumn: "id")
        return (try row.int64("seq"), FlowRun(
            id: try row.id("id", as: RunID.self), flowID: try row.id("flow_id", as: FlowID.self), version: try row.int("version"),
            entryKey: try row.text("entry_key"), status: try row.value("status", as: RunStatus.self),
            customerID: try row.optionalText("customer_id").map(CustomerID.init(rawValue:)), cartID: try row.optionalText("cart_id").map(CartID.init(rawValue:)),
            orderID: try row.optionalText("order_id").map(OrderID.init(rawValue:)), state: try row.json("state", as: RunState.self),
            nextAt: try row.optionalText("next_at"), exitReason: try row.optionalText("exit_reason"), enteredAt: try row.text("entered_at"),
            updatedAt: try row.text("updated_at")))
    }

    // MARK: Counters and mark

    func count(_ counter: String, flow: FlowID, step: String, amount: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO flow_stats (flow_id, step, counter, n) VALUES (?, ?, ?, ?) ON CONFLICT (flow_id, step, counter) DO UPDATE SET n = n + excluded.n",
            [.text(flow.rawValue), .text(step), .text(counter), .integer(amount)])
    }

    func counters(of flow: FlowID) throws -> [String: [String: Int64]] {
        try readers.read { connection in
            var counters: [String: [String: Int64]] = [:]
            for values in try connection.query("SELECT step, counter, n FROM flow_stats WHERE flow_id = ?", [.text(flow.rawValue)]) {
                let row = StoredRow(values, table: "flow_stats", keyColumn: "step")
                counters[try row.text("step"), default: [:]][try row.text("counter")] = try row.int64("n")
            }
            return counters
        }
    }

    /// `shipped_flows` holds the count; `1` was written when the first three were all there were.
    func shippedInstalled(in transaction: any WriteTransaction) throws -> Int {
        guard let values = try transaction.connection.query("SELECT key, value FROM shop_settings WHERE key = 'shipped_flows'").first else { return 0 }
        let value = try StoredRow(values, table: "shop_settings", keyColumn: "key").text("value")
        return value == "1" ? 3 : Int(value) ?? 0
    }

    func setShippedInstalled(_ count: Int, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO shop_settings (key, value) VALUES ('shipped_flows', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [.text(String(count))])
    }

    func markedSeq() throws -> Int64 {
        try readers.read { connection in
            guard let values = try connection.query("SELECT seq FROM automation_mark WHERE id = 1").first else { return 0 }
            return try StoredRow(values, table: "automation_mark", keyColumn: "seq").int64("seq")
        }
    }

    func setMarkedSeq(_ seq: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO automation_mark (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)", [.integer(seq)])
    }
}
