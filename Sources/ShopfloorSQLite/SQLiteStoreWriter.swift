import ShopfloorDomain
import ShopfloorStorage

/// Domain's ``StoreWriter`` on the SQLite ``Writer``: a job's transaction is the writer's connection.
struct SQLiteStoreWriter: StoreWriter {
    let writer: Writer

    func enqueue<T: Sendable>(
        _ job: @escaping @Sendable (any WriteTransaction) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        writer.enqueue(job, seenAs: { $0 }, completion: completion)
    }

    func observeCommits(_ observer: @escaping @Sendable (any WriteTransaction) -> (@Sendable () -> Void)?) {
        writer.observeCommits { connection in observer(connection) }
    }
}
