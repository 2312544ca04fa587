import Foundation
import ShopfloorJSON
import Synchronization

/// The durable, append-only event log and its in-process bus.
///
/// Guarantee: an event is appended in the same transaction as the change it reports (pass the write
/// job's transaction to ``append(type:topic:data:in:)``), so there is no change without its event
/// and no event without its change. After each commit the writer thread reads the new rows and hands
/// them to subscribers in `seq` order, exactly once each.
public final class EventLog: Sendable {
    private let store: any EventStore
    private let writer: any StoreWriter
    private let clock: any WallClock
    /// `collected`: the last `seq` taken from a commit (writer thread); `published`: the last handed to
    /// subscribers, once on disk (flusher thread).
    private let state = Mutex<(collected: Int64, published: Int64, subscribers: [Int: @Sendable (Event) -> Void], next: Int)>((0, 0, [:], 0))

    public init(stores: Stores, clock: any WallClock = SystemClock()) throws {
        store = stores.events
        writer = stores.writer
        self.clock = clock
        let last = try store.lastSeq()
        state.withLock { state in
            state.collected = last
            state.published = last
        }
        stores.writer.observeCommits { [weak self] transaction in self?.collectCommitted(transaction) }
    }

    /// Appends an event inside the caller's write transaction; returns its `seq`.
    @discardableResult
    public func append<Payload: Encodable>(type: String, topic: String, data: Payload, in transaction: any WriteTransaction) throws -> Int64 {
        // Most payloads are a line or a stock level, far below the default room: a kilobyte buffer is
        // a large-bin request to glibc, which first consolidates its fast bins.
        // Known at specialisation: a payload written by hand skips the generic encoder's run-time lookup.
        let bytes = if let direct = data as? any DirectJSONEncodable {
            try JSONCoding.encode(direct: direct, capacity: 256)
        } else {
            try JSONCoding.encode(data, capacity: 256)
        }
        let json = String(decoding: bytes, as: UTF8.self)
        let at = clock.timestamp
        let seq = try store.append(type: type, topic: topic, at: at, data: json, in: transaction)
        transaction.transactionNotes.append(Event(seq: seq, type: type, topic: topic, at: at, data: json))
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
        let filters = topics.map { TopicFilter(topic: $0, prefix: EventLog.specificPrefix(forFamily: $0)) }
        return try store.events(after: since, through: through ?? publishedSeq, topics: filters, limit: limit)
    }

    /// The oldest `seq` still held, or `nil` when the log is empty; a resume from before it has a gap.
    public func oldestSeq() throws -> Int64? {
        try store.oldestSeq()
    }

    /// Deletes events older than `age`; returns how many went.
    ///
    /// Events are appended in time order, so everything before the first event young enough to keep
    /// goes: the search for it reads only the rows it deletes, without an index on `at`. (Should the
    /// clock step back, an event out of order keeps its elders until a later pass: retention is a minimum.)
    @discardableResult
    public func prune(olderThan age: Duration) async throws -> Int {
        let cutoff = Timestamp.string(clock.now().addingTimeInterval(-age.seconds))
        return try await writer.write { [store] transaction in try store.prune(before: cutoff, in: transaction) }
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
    private func collectCommitted(_ transaction: any WriteTransaction) -> (@Sendable () -> Void)? {
        let since = state.withLock { $0.collected }
        var events = transaction.transactionNotes.compactMap { $0 as? Event }
        guard let first = events.first else { return nil }
        if first.seq != since + 1 {
            guard let read = try? store.events(after: since, in: transaction) else { return nil }
            events = read
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

    /// The prefix of the specific topics of a family (`stock` → `stock:`), or `nil` when the topic is
    /// not a family (it then matches only itself), as ``Event/matches(_:)`` decides.
    static func specificPrefix(forFamily family: String) -> String? {
        switch family {
        case "stock": "stock:"
        case "products": "product:"
        case "carts": "cart:"
        case "orders": "order:"
        case "conversations": "conversation:"
        default: nil
        }
    }
}
