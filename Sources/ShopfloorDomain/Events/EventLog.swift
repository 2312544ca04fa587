import Foundation
public import ShopfloorStorage
import Synchronization

/// The durable, append-only event log and its in-process bus.
///
/// Guarantee: an event is appended in the same transaction as the change it reports (pass the write
/// closure's connection to ``append(_:type:topic:data:)``), so there is no change without its event
/// and no event without its change. After each commit the writer thread reads the new rows and hands
/// them to subscribers in `seq` order, exactly once each.
public final class EventLog: Sendable {
    private let database: Database
    /// `collected`: the last `seq` taken from a commit (writer thread); `published`: the last handed to
    /// subscribers, once on disk (flusher thread).
    private let state = Mutex<(collected: Int64, published: Int64, subscribers: [Int: @Sendable (Event) -> Void], next: Int)>((0, 0, [:], 0))

    public init(database: Database) throws {
        self.database = database
        let last = try database.readers.read { connection in
            // The sequence, not the rows: after pruning the table may be empty while seqs were handed out.
            try connection.query(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), COALESCE((SELECT MAX(seq) FROM events), 0)) AS seq"
            ).first?["seq"]?.int ?? 0
        }
        state.withLock { state in
            state.collected = Int64(last)
            state.published = Int64(last)
        }
        database.writer.observeCommits { [weak self] connection in self?.collectCommitted(connection) }
    }

    /// Appends an event inside the caller's write transaction; returns its `seq`.
    @discardableResult
    public static func append<Payload: Encodable>(_ connection: SQLiteConnection, type: String, topic: String, data: Payload) throws -> Int64 {
        // Most payloads are a line or a stock level, far below the default room: a kilobyte buffer is
        // a large-bin request to glibc, which first consolidates its fast bins.
        let json = String(decoding: try JSONCoding.encode(data, capacity: 256), as: UTF8.self)
        let at = Timestamp.now
        try connection.run("INSERT INTO events (type, topic, at, data) VALUES (?, ?, ?, ?)", [.text(type), .text(topic), .text(at), .text(json)])
        let seq = connection.lastInsertRowID
        connection.transactionNotes.append(Event(seq: seq, type: type, topic: topic, at: at, data: json))
        return seq
    }

    /// Events after `since` on any of `topics` (all topics when empty), oldest first, up to `through`:
    /// by default the last one published.
    ///
    /// A committed event can be read a moment before it is on disk and published (the WAL's sync comes
    /// after the commit); a reader that took it then could hear of it again from its subscription, or
    /// of an event a crash in between takes back. Readers that follow the bus bound their reads by the
    /// last event the bus has handed them.
    public func read(since: Int64, through: Int64? = nil, topics: [String], limit: Int) throws -> [Event] {
        let through = through ?? publishedSeq
        return try database.readers.read { connection in
            var sql = "SELECT seq, type, topic, at, data FROM events WHERE seq > ? AND seq <= ?"
            var bindings: [SQLiteValue] = [.integer(since), .integer(through)]
            if !topics.isEmpty {
                let clauses = topics.map { topic -> String in
                    bindings.append(.text(topic))
                    guard let pattern = EventLog.specificPattern(forFamily: topic) else { return "topic = ?" }
                    bindings.append(.text(pattern))
                    return "(topic = ? OR topic GLOB ?)"
                }
                sql += " AND (" + clauses.joined(separator: " OR ") + ")"
                // One topic of its own reads the topic index, which leaves carts out (migration 7): the
                // index's condition, spelled out, lets the planner use it.
                if topics.count == 1, EventLog.specificPattern(forFamily: topics[0]) == nil, !topics[0].hasPrefix("cart:") {
                    sql += " AND topic NOT GLOB 'cart:*'"
                }
            }
            sql += " ORDER BY seq LIMIT ?"
            bindings.append(.integer(Int64(limit)))
            return try connection.query(sql, bindings).map(EventLog.event)
        }
    }

    /// The oldest `seq` still held, or `nil` when the log is empty; a resume from before it has a gap.
    public func oldestSeq() throws -> Int64? {
        try database.readers.read { connection in
            try connection.query("SELECT MIN(seq) AS seq FROM events").first?["seq"]?.int.map(Int64.init)
        }
    }

    /// Deletes events older than `age`; returns how many went.
    ///
    /// Events are appended in time order, so everything before the first event young enough to keep
    /// goes: the search for it reads only the rows it deletes, without an index on `at`. (Should the
    /// clock step back, an event out of order keeps its elders until a later pass: retention is a minimum.)
    @discardableResult
    public func prune(olderThan age: Duration) async throws -> Int {
        let cutoff = Timestamp.string(Date().addingTimeInterval(-Double(age.components.seconds)))
        return try await database.writer.write { connection in
            try connection.run(
                """
                DELETE FROM events WHERE seq < COALESCE(
                    (SELECT seq FROM events WHERE at >= ?1 ORDER BY seq LIMIT 1), (SELECT MAX(seq) + 1 FROM events))
                """, [.text(cutoff)])
        }
    }

    /// Calls `handler` with every event committed from now on, in order, once it is on disk, on the
    /// writer's flusher thread: it must return quickly (enqueue, do not work). Returns a token for ``unsubscribe(_:)``.
    public func subscribe(_ handler: @escaping @Sendable (Event) -> Void) -> Int {
        state.withLock { state in
            state.next += 1
            state.subscribers[state.next] = handler
            return state.next
        }
    }

    public func unsubscribe(_ token: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: token) }
    }

    /// The highest `seq` handed to subscribers.
    public var publishedSeq: Int64 { state.withLock { $0.published } }

    /// Takes the transaction's events, on the writer thread, and returns their publication, which the
    /// writer runs once they are on disk. They come from the appends themselves (the only way rows
    /// enter the log); should they not follow on from the last collected `seq`, the log is read back
    /// from there, so nothing is skipped.
    private func collectCommitted(_ connection: SQLiteConnection) -> (@Sendable () -> Void)? {
        let since = state.withLock { $0.collected }
        var events = connection.transactionNotes.compactMap { $0 as? Event }
        guard let first = events.first else { return nil }
        if first.seq != since + 1 {
            guard let rows = try? connection.query("SELECT seq, type, topic, at, data FROM events WHERE seq > ? ORDER BY seq", [.integer(since)])
            else { return nil }
            events = rows.map(EventLog.event)
        }
        guard let last = events.last else { return nil }
        state.withLock { $0.collected = last.seq }
        let committed = events
        return { [weak self] in self?.publish(committed) }
    }

    private func publish(_ events: [Event]) {
        guard let last = events.last else { return }
        let subscribers = state.withLock { state in
            state.published = last.seq
            return Array(state.subscribers.values)
        }
        for event in events {
            for subscriber in subscribers { subscriber(event) }
        }
    }

    private static func event(_ row: SQLiteConnection.Row) -> Event {
        Event(
            seq: Int64(row["seq"]?.int ?? 0), type: row["type"]?.string ?? "", topic: row["topic"]?.string ?? "",
            at: row["at"]?.string ?? "", data: row["data"]?.string ?? "{}")
    }

    /// The GLOB pattern for the specific topics of a family (`stock` → `stock:*`), or `nil` when the
    /// topic is not a family (it then matches only itself), as ``Event/matches(_:)`` decides.
    static func specificPattern(forFamily family: String) -> String? {
        switch family {
        case "stock": "stock:*"
        case "products": "product:*"
        case "carts": "cart:*"
        case "orders": "order:*"
        default: nil
        }
    }
}
