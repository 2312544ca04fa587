import ShopfloorDomain
import ShopfloorStorage

/// Domain's ``StoreWriter`` on the SQLite ``Writer``: a job's transaction is the writer's connection.
struct SQLiteStoreWriter: StoreWriter {
    let writer: Writer

    func submit(_ job: @escaping @Sendable (any WriteTransaction) throws -> Void, completion: @escaping @Sendable ((any Error)?) -> Void) {
        writer.enqueue(job, seenAs: { $0 }, completion: completion)
    }

    func observeCommits(_ observer: @escaping @Sendable (any WriteTransaction) -> (@Sendable () -> Void)?) {
        writer.observeCommits { connection in observer(connection) }
    }
}
