import ShopfloorDomain
import ShopfloorStorage

/// Staff tasks in table `tasks` (migration 18), listed newest first by `position`.
struct SQLiteTaskStore: TaskStore {
    let readers: ReaderPool

    private static let columns = "position, id, text, status, customer_id, order_id, flow_id, run_id, created_at, done_at, done_by"

    func insert(_ task: StaffTask, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO tasks (id, text, status, customer_id, order_id, flow_id, run_id, created_at, done_at, done_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(task.id.rawValue), .text(task.text), .text(task.status.rawValue), .optional(task.customerID?.rawValue),
             .optional(task.orderID?.rawValue), .optional(task.flowID?.rawValue), .optional(task.runID?.rawValue), .text(task.createdAt),
             .optional(task.doneAt), .optional(task.doneBy)])
    }

    func update(_ task: StaffTask, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE tasks SET status = ?, done_at = ?, done_by = ? WHERE id = ?",
                                       [.text(task.status.rawValue), .optional(task.doneAt), .optional(task.doneBy), .text(task.id.rawValue)])
    }

    func task(_ id: TaskID, in transaction: any WriteTransaction) throws -> StaffTask? {
        try transaction.connection.query("SELECT \(Self.columns) FROM tasks WHERE id = ?", [.text(id.rawValue)]).first.map {
            try Self.task(StoredRow($0, table: "tasks", keyColumn: "id"))
        }
    }

    func tasks(status: TaskStatus?, before: Int64, limit: Int) throws -> [(position: Int64, task: StaffTask)] {
        try readers.read { connection in
            let rows = if let status {
                try connection.query("SELECT \(Self.columns) FROM tasks WHERE status = ? AND position < ? ORDER BY position DESC LIMIT ?",
                                     [.text(status.rawValue), .integer(before), .integer(Int64(limit))])
            } else {
                try connection.query("SELECT \(Self.columns) FROM tasks WHERE position < ? ORDER BY position DESC LIMIT ?",
                                     [.integer(before), .integer(Int64(limit))])
            }
            return try rows.map { values in
                let row = StoredRow(values, table: "tasks", keyColumn: "id")
                return (try row.int64("position"), try Self.task(row))
            }
        }
    }

    private static func task(_ row: StoredRow) throws -> StaffTask {
        StaffTask(
            id: try row.id("id", as: TaskID.self), text: try row.text("text"), status: try row.value("status", as: TaskStatus.self),
            customerID: try row.optionalText("customer_id").map(CustomerID.init(rawValue:)),
            orderID: try row.optionalText("order_id").map(OrderID.init(rawValue:)), flowID: try row.optionalText("flow_id").map(FlowID.init(rawValue:)),
            runID: try row.optionalText("run_id").map(RunID.init(rawValue:)), createdAt: try row.text("created_at"),
            doneAt: try row.optionalText("done_at"), doneBy: try row.optionalText("done_by"))
    }
}
