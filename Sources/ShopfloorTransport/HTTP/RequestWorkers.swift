import Synchronization

/// Long-lived tasks that run requests, instead of a new task for each.
///
/// Why: a task's async frames come from its own allocator, in 1 KiB slabs `malloc`ed as the calls
/// deepen and freed with the task; a cart write's calls take a dozen of them, on every request. A
/// worker keeps its slabs from one request to the next, and starting it again is a continuation's
/// resumption rather than a task's creation. Workers are made on demand, so as many requests run at
/// once as before (a pipelined connection's too); one that finds no work waits for the next, the most
/// recent first, unless ``maxIdle`` already wait: then it ends, so a burst leaves no crowd behind.
final class RequestWorkers: Sendable {
    /// Workers kept waiting at most: their slabs, some 12 KiB each, are the memory a quiet server keeps.
    static let maxIdle = 256

    /// One request's work, from the responder to the response handed back to the connection.
    typealias Job = @Sendable () async -> Void

    private struct State {
        var idle: [CheckedContinuation<Job?, Never>] = []
        var closed = false
    }

    private let state = Mutex(State())

    /// Workers waiting for a job now.
    var idleCount: Int { state.withLock { $0.idle.count } }

    /// Runs `job` on a waiting worker, or on a new one.
    func run(_ job: @escaping Job) {
        let waiting = state.withLock { $0.idle.popLast() }
        if let waiting {
            waiting.resume(returning: job)
        } else {
            Task { await self.work(from: job) }
        }
    }

    /// Ends every waiting worker, and each running one when its request is done.
    func close() {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for worker in waiting { worker.resume(returning: nil) }
    }

    private func work(from first: @escaping Job) async {
        var job: Job? = first
        while let current = job {
            await current()
            job = await next()
        }
    }

    /// The next job, or `nil` when this worker should end.
    private func next() async -> Job? {
        await withCheckedContinuation { continuation in
            let waits = state.withLock { state in
                guard !state.closed, state.idle.count < Self.maxIdle else { return false }
                state.idle.append(continuation)
                return true
            }
            if !waits { continuation.resume(returning: nil) }
        }
    }
}
