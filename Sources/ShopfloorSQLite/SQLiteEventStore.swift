import ShopfloorDomain
import ShopfloorStorage

/// The event log in table `events` (`seq` an `AUTOINCREMENT` key, so a number is never reused).
struct SQLiteEventStore: EventStore {
    let readers: ReaderPool

    func lastSeq() throws -> Int64 {
        try readers.read { connection in
            let row = try connection.query(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), COALESCE((SELECT MAX(seq) FROM events), 0)) AS seq"
            ).first
            return try StoredRow(row ?? [:], table: "sqlite_sequence", keyColumn: "seq").int64("seq")
        }
    }

    func append(type: String, topic: String, at: String, data: String, in transaction: any WriteTransaction) throws -> Int64 {
        let connection = transaction.connection
        try connection.run("INSERT INTO events (type, topic, at, data) VALUES (?, ?, ?, ?)", [.text(type), .text(topic), .text(at), .text(data)])
        return connection.lastInsertRowID
    }

    func events(after since: Int64, through: Int64, topics: [TopicFilter], limit: Int) throws -> [Event] {
        var sql = "SELECT seq, type, topic, at, data FROM events WHERE seq > ? AND seq <= ?"
        var bindings: [SQLiteValue] = [.integer(since), .integer(through)]
        if !topics.isEmpty {
            let clauses = topics.map { filter -> String in
                bindings.append(.text(filter.topic))
                guard let prefix = filter.prefix else { return "topic = ?" }
                bindings.append(.text(Self.glob(prefix: prefix)))
                return "(topic = ? OR topic GLOB ?)"
            }
            sql += " AND (" + clauses.joined(separator: " OR ") + ")"
            // One topic of its own reads the topic index, which leaves carts out (migration 7): the
            // index's condition, spelled out, lets the planner use it.
            if topics.count == 1, topics[0].prefix == nil, !topics[0].topic.hasPrefix("cart:") {
                sql += " AND topic NOT GLOB 'cart:*'"
            }
        }
        sql += " ORDER BY seq LIMIT ?"
        bindings.append(.integer(Int64(limit)))
        return try readers.read { connection in try connection.query(sql, bindings).map(Self.event) }
    }

    func events(after since: Int64, in transaction: any WriteTransaction) throws -> [Event] {
        try transaction.connection.query("SELECT seq, type, topic, at, data FROM events WHERE seq > ? ORDER BY seq", [.integer(since)]).map(Self.event)
    }

    func oldestSeq() throws -> Int64? {
        try readers.read { connection in
            let row = StoredRow(try connection.query("SELECT MIN(seq) AS seq FROM events").first ?? [:], table: "events", keyColumn: "seq")
            return try row.optionalInt("seq").map(Int64.init)
        }
    }

    /// Events are appended in time order, so everything before the first event young enough to keep
    /// goes: the search for it reads only the rows it deletes, without an index on `at`.
    func prune(before cutoff: String, in transaction: any WriteTransaction) throws -> Int {
        try transaction.connection.run(
            """
            DELETE FROM events WHERE seq < COALESCE(
                (SELECT seq FROM events WHERE at >= ?1 ORDER BY seq LIMIT 1), (SELECT MAX(seq) + 1 FROM events))
            """, [.text(cutoff)])
    }

    /// A GLOB pattern matching every topic that starts with `prefix`, its own metacharacters escaped.
    private static func glob(prefix: String) -> String {
        var pattern = ""
        for character in prefix {
            switch character {
            case "*", "?", "[": pattern += "[\(character)]"
            default: pattern.append(character)
            }
        }
        return pattern + "*"
    }

    private static func event(_ values: SQLiteConnection.Row) throws -> Event {
        let row = StoredRow(values, table: "events", keyColumn: "seq")
        return Event(seq: try row.int64("seq"), type: try row.text("type"), topic: try row.text("topic"), at: try row.text("at"), data: try row.text("data"))
    }
}
