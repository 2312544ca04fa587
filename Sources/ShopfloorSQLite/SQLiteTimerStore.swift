import ShopfloorDomain
import ShopfloorStorage

/// The scheduler's timers in table `timers` (migration 18), read in due order from `timers_due`.
struct SQLiteTimerStore: TimerStore {
    let readers: ReaderPool

    func schedule(_ timer: ScheduledTimer, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO timers (key, kind, ref, due_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, ref = excluded.ref, due_ms = excluded.due_ms
            """,
            [.text(timer.key), .text(timer.kind), .text(timer.ref), .integer(timer.dueMilliseconds)])
    }

    func scheduleIfAbsent(_ timer: ScheduledTimer, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run(
            "INSERT INTO timers (key, kind, ref, due_ms) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            [.text(timer.key), .text(timer.kind), .text(timer.ref), .integer(timer.dueMilliseconds)]) > 0
    }

    func cancel(key: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM timers WHERE key = ?", [.text(key)])
    }

    func take(_ timer: ScheduledTimer, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("DELETE FROM timers WHERE id = ? AND due_ms = ?", [.integer(timer.id), .integer(timer.dueMilliseconds)]) > 0
    }

    func due(at milliseconds: Int64, limit: Int) throws -> [ScheduledTimer] {
        try readers.read { connection in
            try connection.query("SELECT id, key, kind, ref, due_ms FROM timers WHERE due_ms <= ? ORDER BY due_ms, id LIMIT ?",
                                 [.integer(milliseconds), .integer(Int64(limit))]).map { values in
                let row = StoredRow(values, table: "timers", keyColumn: "key")
                return ScheduledTimer(id: try row.int64("id"), key: try row.text("key"), kind: try row.text("kind"), ref: try row.text("ref"),
                                      dueMilliseconds: try row.int64("due_ms"))
            }
        }
    }
}
