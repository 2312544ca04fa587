/// The scheduler's durable timers: one per key, read in due order.
public protocol TimerStore: Sendable {
    /// Sets the timer `key` to fire at `dueMilliseconds`, replacing its due time if it exists.
    func schedule(_ timer: ScheduledTimer, in transaction: any WriteTransaction) throws
    /// Adds the timer unless one with its key exists; `true` when added.
    func scheduleIfAbsent(_ timer: ScheduledTimer, in transaction: any WriteTransaction) throws -> Bool
    /// Removes the timer `key`, if any.
    func cancel(key: String, in transaction: any WriteTransaction) throws
    /// Removes the timer if it is still the one read (same id and due time); `false` when it was
    /// fired, cancelled or moved meanwhile.
    func take(_ timer: ScheduledTimer, in transaction: any WriteTransaction) throws -> Bool
    /// Timers due at or before `milliseconds`, earliest first (ties in the order they were set).
    func due(at milliseconds: Int64, limit: Int) throws -> [ScheduledTimer]
}

/// A timer: fires `kind`'s handler with `ref` once the clock reaches `dueMilliseconds`.
public struct ScheduledTimer: Sendable, Equatable {
    /// Its row, once stored (0 before).
    public var id: Int64
    public var key: String
    public var kind: String
    public var ref: String
    public var dueMilliseconds: Int64

    public init(id: Int64 = 0, key: String, kind: String, ref: String, dueMilliseconds: Int64) {
        self.id = id
        self.key = key
        self.kind = kind
        self.ref = ref
        self.dueMilliseconds = dueMilliseconds
    }
}
