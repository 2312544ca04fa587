import Synchronization

/// The backend's one writer: write jobs run one at a time, many sharing one transaction (group
/// commit), and each caller hears of its job only once that transaction is durable.
///
/// Guarantee: jobs run in the order they were queued; a job that throws is rolled back alone, so a job
/// may run twice and must change nothing but the store (and its transaction's notes) before it returns.
/// The completion runs after the commit is on disk, off the caller's executor: it must return quickly.
///
/// Rule: do not queue a write from inside a job (it would wait for itself).
public protocol StoreWriter: Sendable {
    /// Queues `job` and returns at once; `completion` receives `nil` once its transaction is durable,
    /// or the error that ended it (the job's own, or its transaction's). A caller that must keep an
    /// order (the SKU actors) queues without an `await` in between. The primitive a backend provides:
    /// it has no generic result, so a call through the existential runs no unspecialised generic
    /// code and no re-abstraction thunk; ``enqueue(_:completion:)`` keeps the result on this side.
    func submit(_ job: @escaping @Sendable (any WriteTransaction) throws -> Void,
                completion: @escaping @Sendable ((any Error)?) -> Void)

    /// Adds an observer called, inside the writer, after every commit with the committed transaction;
    /// what it returns runs once that commit is on disk, in commit order, before any of its writers
    /// resumes (the event log collects a transaction's events in the first step and publishes them in
    /// the second).
    func observeCommits(_ observer: @escaping @Sendable (any WriteTransaction) -> (@Sendable () -> Void)?)
}

extension StoreWriter {
    /// Queues `job` and returns at once; `completion` receives its result once its transaction has
    /// ended. A caller that must keep an order (the SKU actors) queues without an `await` in between.
    public func enqueue<T: Sendable>(
        _ job: @escaping @Sendable (any WriteTransaction) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let outcome = WriteOutcome<T>()
        submit({ transaction in outcome.value = try job(transaction) }) { error in
            if let error {
                completion(.failure(error))
            } else {
                completion(outcome.value.map { .success($0) } ?? .failure(CancellationError()))
            }
        }
    }

    /// Runs `job` in a committed transaction and returns its value once durable.
    public func write<T: Sendable>(_ job: @escaping @Sendable (any WriteTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(job) { continuation.resume(with: $0) }
        }
    }
}

extension StoreWriter {
    /// Queues every job at once, in order, so the writer may commit them together, and returns each
    /// one's result once all have ended: a job that throws rolls back alone and the others still commit.
    public func writeEach<T: Sendable>(_ jobs: [@Sendable (any WriteTransaction) throws -> T]) async -> [Result<T, any Error>] {
        if jobs.isEmpty { return [] }
        return await withCheckedContinuation { continuation in
            let collector = ResultCollector<T>(count: jobs.count, continuation: continuation)
            for (index, job) in jobs.enumerated() {
                enqueue(job) { collector.set(index, $0) }
            }
        }
    }
}

/// The results of a batch of jobs, in queue order; resumes the waiter once the last is in.
private final class ResultCollector<T: Sendable>: Sendable {
    private let state: Mutex<(results: [Result<T, any Error>?], remaining: Int)>
    private let continuation: CheckedContinuation<[Result<T, any Error>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<T, any Error>], Never>) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.continuation = continuation
    }

    func set(_ index: Int, _ result: Result<T, any Error>) {
        let done = state.withLock { state -> [Result<T, any Error>]? in
            state.results[index] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.results.map { $0! } : nil
        }
        if let done { continuation.resume(returning: done) }
    }
}

/// A job's value between its run inside the writer and its completion.
///
/// `@unchecked Sendable`: the job writes it while it runs in the writer (once, or again if its batch
/// is retried), and only its completion reads it, which the writer calls after the job's last run.
private final class WriteOutcome<T>: @unchecked Sendable {
    var value: T?
}
