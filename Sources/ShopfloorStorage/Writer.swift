import Logging
import Synchronization

/// The one connection that writes, on its own thread, with group commit.
///
/// Guarantee: every write closure runs on the writer thread, one at a time, inside a transaction;
/// its caller resumes only after that transaction has committed and the WAL holding it is on disk
/// (``WALFlusher``), so nothing acknowledged to a client is lost on a crash. Closures queued together
/// share one transaction, and a failing closure is rolled back alone: the batch runs again with a
/// savepoint per closure (``commit(_:)``). While one batch's sync is in flight the next one runs.
///
/// Rule: the connection is valid only inside the closure; do not keep it, and do not call the writer
/// from inside a write (that would wait for itself).
///
/// `@unchecked Sendable`: `connection` is touched only on the writer thread; `queue` and `stopping`
/// are guarded by their mutex.
public final class Writer: @unchecked Sendable {
    private struct Job: Sendable {
        /// Runs the closure; returns its error, if any. Called on the writer thread.
        let perform: @Sendable (SQLiteConnection) -> (any Error)?
        /// Delivers the outcome after the transaction ends: `nil` for committed, else the closure's own
        /// error or, if it succeeded, the transaction's. Called on the flusher thread after the sync for
        /// a commit, on the writer thread for a failed transaction.
        let finish: @Sendable ((any Error)?) -> Void
    }

    /// A closure's value between its run on the writer thread and its completion.
    ///
    /// `@unchecked Sendable`: written only on the writer thread while the job runs, read only by the
    /// job's completion, which the writer hands over (through the flusher's queue) after the last run.
    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }

    private let connection: SQLiteConnection
    private let flusher: WALFlusher
    private let commitObservers = Mutex<[@Sendable (SQLiteConnection) -> (@Sendable () -> Void)?]>([])
    private let queue = Mutex<(jobs: [Job], stopping: Bool)>(([], false))
    /// Told of each committed batch. An object, not a closure: a closure kept in the generic `Mutex`
    /// and read back was called through a chain of reabstraction thunks, 18 % of the server's CPU
    /// under the cart loop (perf).
    private let batchObserver = Mutex<(any WriterObserver)?>(nil)
    private let thread = WakeableThread(name: "sf-writer")
    /// Most closures in one transaction: bounds the latency a batch adds to its first member.
    private let maxBatch = 512

    /// `connection` must run with `synchronous=NORMAL` on the WAL of `path`: the flusher syncs it and
    /// reports syncs slower than `slowSync` to `logger`.
    init(connection: SQLiteConnection, path: String, logger: Logger, slowSync: Duration) {
        self.connection = connection
        connection.keepTransactionMemo()
        flusher = WALFlusher(databasePath: path, logger: logger, slowSync: slowSync)
        thread.start { [self] in pass() }
    }

    /// Runs `body` in a committed transaction and returns its value once durable.
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(body) { continuation.resume(with: $0) }
        }
    }

    /// Queues `body` and returns at once; `completion` receives its result after the transaction ends.
    /// A committed write completes on the ``WALFlusher``'s thread once the WAL holding it is on disk
    /// (``commit(_:)`` hands its completions to `afterFlush`); a write whose transaction failed completes
    /// on the writer thread, and one queued after ``close()`` began completes at once on the caller's
    /// thread with `CancellationError`. `completion` must therefore be quick and must not block: it
    /// holds up the flusher and every commit waiting behind it. Writes are run in the order they were
    /// queued, so a caller that must keep an order (the SKU actors) queues synchronously, without an
    /// `await` in between.
    public func enqueue<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let box = ResultBox<T>()
        enqueue({ connection in box.value = try body(connection) }, seenAs: { $0 }) { error in
            if let error {
                completion(.failure(error))
            } else {
                completion(box.value.map { .success($0) } ?? .failure(CancellationError()))
            }
        }
    }

    /// As ``enqueue(_:completion:)`` for a body that returns nothing and takes the connection as another
    /// type, such as a protocol the connection conforms to: `seenAs` converts it when the body runs, and
    /// `completion` receives `nil` once the transaction is durable, or the error that ended the write.
    /// The primitive beneath both: without a generic result it runs specialised whatever its caller is
    /// (a backend-neutral caller keeps its own result, see Domain's `StoreWriter`), and a body of
    /// another parameter type handed over as it is would be wrapped in a converting closure, an
    /// allocation on every write, where `seenAs`, a closure without captures, costs none.
    public func enqueue<Transaction>(
        _ body: @escaping @Sendable (Transaction) throws -> Void,
        seenAs transaction: @escaping @Sendable (SQLiteConnection) -> Transaction,
        completion: @escaping @Sendable ((any Error)?) -> Void
    ) {
        let job = Job(
            perform: { connection in
                do {
                    try body(transaction(connection))
                    return nil
                } catch {
                    return error
                }
            },
            finish: completion)
        let accepted = queue.withLock { state in
            guard !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { thread.wake() } else { completion(CancellationError()) }
    }

    /// Adds a closure called on the writer thread after every commit, with the connection so it can
    /// read what was just committed and the transaction's ``SQLiteConnection/transactionNotes``. What
    /// it returns runs once the commit is on disk, in commit order, before any of its writers resumes
    /// (the event log collects a transaction's events in the first step and publishes them in the second).
    public func observeCommits(_ observer: @escaping @Sendable (SQLiteConnection) -> (@Sendable () -> Void)?) {
        commitObservers.withLock { $0.append(observer) }
    }

    /// Finishes queued writes and their syncs, then ends the threads. Blocks until it has.
    func close() {
        queue.withLock { $0.stopping = true }
        thread.wake()
        thread.join()
        flusher.close()
    }

    /// Sets what is told of each committed batch (metrics): called on the flusher's thread, keep it short.
    public func observeBatches(_ observer: any WriterObserver) {
        batchObserver.withLock { $0 = observer }
    }

    /// Commits up to ``maxBatch`` queued jobs as one batch; `false` once stopping and all are done.
    private func pass() -> Bool {
        let (batch, stopping) = queue.withLock { state in
            let count = min(state.jobs.count, maxBatch)
            defer { state.jobs.removeFirst(count) }
            return (Array(state.jobs.prefix(count)), state.stopping && state.jobs.count == count)
        }
        // Jobs left beyond `maxBatch` need no wake-up of their own: each was queued with one.
        if !batch.isEmpty { commit(batch) }
        return !stopping
    }

    /// Commits the batch in one transaction. First without savepoints, which cost a statement each
    /// way and a copy of every page a job touches; only if a job fails is that attempt rolled back and
    /// the batch run again with a savepoint per job, so the failure takes nothing else with it. A job
    /// may therefore run twice: write closures change nothing but the database (and the transaction's
    /// notes, which go with a rollback) before they return.
    private func commit(_ batch: [Job]) {
        let started = ContinuousClock.now
        var outcomes: [(any Error)?] = []
        outcomes.reserveCapacity(batch.count)
        do {
            if try !attempt(batch, savepoints: false, outcomes: &outcomes) {
                // A job alone has failed already, and there is nothing else to commit.
                if batch.count == 1 {
                    batch[0].finish(outcomes.last ?? nil)
                    return
                }
                outcomes.removeAll(keepingCapacity: true)
                _ = try attempt(batch, savepoints: true, outcomes: &outcomes)
            }
            connection.forgetMemo()
            let durable = commitObservers.withLock({ $0 }).compactMap { observer in observer(connection) }
            connection.transactionNotes.removeAll(keepingCapacity: true)
            let finished = outcomes
            let observer = batchObserver.withLock { $0 }
            flusher.afterFlush {
                for step in durable { step() }
                for (job, error) in zip(batch, finished) { job.finish(error) }
                observer?.batchCommitted(jobs: batch.count, latency: ContinuousClock.now - started)
            }
        } catch {
            connection.forgetMemo()
            connection.transactionNotes.removeAll(keepingCapacity: true)
            if connection.inTransaction { _ = try? connection.run("ROLLBACK") }
            for job in batch { job.finish(error) }
        }
    }

    /// Runs the batch and commits, leaving each job's error (or `nil`) in `outcomes`. Without savepoints
    /// it stops at the first failing job, its error last, rolls everything back and returns `false`;
    /// with them a failing job is rolled back alone.
    private func attempt(_ batch: [Job], savepoints: Bool, outcomes: inout [(any Error)?]) throws -> Bool {
        connection.transactionNotes.removeAll(keepingCapacity: true)
        connection.forgetMemo()
        try connection.run("BEGIN IMMEDIATE")
        for job in batch {
            let notes = connection.transactionNotes.count
            if savepoints { try connection.run("SAVEPOINT job") }
            let error = job.perform(connection)
            if error != nil {
                guard savepoints else {
                    outcomes.append(error)
                    try connection.run("ROLLBACK")
                    connection.transactionNotes.removeAll(keepingCapacity: true)
                    connection.forgetMemo()
                    return false
                }
                try connection.run("ROLLBACK TO job")
                connection.transactionNotes.removeSubrange(notes...)
                connection.forgetMemo()
            }
            if savepoints { try connection.run("RELEASE job") }
            outcomes.append(error)
        }
        try connection.run("COMMIT")
        return true
    }
}

/// Told of each batch the writer commits (the server's metrics), on the flusher's thread once the
/// batch is on disk: `latency` runs from the batch's start.
public protocol WriterObserver: AnyObject, Sendable {
    func batchCommitted(jobs: Int, latency: Duration)
}
