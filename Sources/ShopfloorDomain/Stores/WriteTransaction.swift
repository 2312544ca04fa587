/// One write transaction of the store's backend, as Domain sees it: handed to a write job by
/// ``StoreWriter`` and passed on to the stores' write methods, so a change, its events and (later) its
/// outbox messages commit together or not at all.
///
/// Rule: valid only inside the job that received it; do not keep it or hand it to another thread. Only
/// the backend that made it can use it: a store of another backend would trap.
public protocol WriteTransaction: AnyObject {
    /// Values a job leaves for the commit observers (``StoreWriter/observeCommits(_:)``), in the order
    /// left; those of a job that rolls back go with it. The event log leaves its appended events here.
    var transactionNotes: [any Sendable] { get set }
}
