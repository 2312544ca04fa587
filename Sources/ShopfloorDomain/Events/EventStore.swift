/// Where the durable event log lives: append-only rows numbered by one increasing `seq`.
public protocol EventStore: Sendable {
    /// The highest `seq` ever handed out, read from the sequence rather than the rows: after pruning
    /// the log may be empty while numbers were used.
    func lastSeq() throws -> Int64

    /// Appends an event in `transaction`; returns its `seq`, one more than any before it.
    func append(type: String, topic: String, at: String, data: String, in transaction: any WriteTransaction) throws -> Int64

    /// Events with `since < seq ≤ through` whose topic matches one of `topics` (every topic when
    /// empty), oldest first, at most `limit`.
    func events(after since: Int64, through: Int64, topics: [TopicFilter], limit: Int) throws -> [Event]

    /// Every event after `since` as `transaction` sees it, oldest first.
    func events(after since: Int64, in transaction: any WriteTransaction) throws -> [Event]

    /// The oldest `seq` still held; `nil` when the log is empty.
    func oldestSeq() throws -> Int64?

    /// Deletes, oldest first, every event up to the first one stamped at or after `cutoff`; returns how many.
    func prune(before cutoff: String, in transaction: any WriteTransaction) throws -> Int
}

/// One topic a reader asks for: the topic itself and, for a family (`stock`), every specific topic
/// starting with `prefix` (`stock:`).
public struct TopicFilter: Sendable, Equatable {
    public var topic: String
    public var prefix: String?

    public init(topic: String, prefix: String?) {
        self.topic = topic
        self.prefix = prefix
    }
}
