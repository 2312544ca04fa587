#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Synchronization

/// The threads an ``HTTPClient`` runs requests on: up to a fixed number of them, fed in order from one
/// queue, and started only when a job finds no idle thread to take it (a server that never sends a
/// webhook or push message starts none; one that sends a few keeps a few).
///
/// A request blocks on the network (connect, `poll`, read), which must never happen on Swift's
/// cooperative pool, whose few threads every task shares, nor on an event loop; so each runs whole on
/// one of these threads, as outbound mail does (docs/ARCHITECTURE.md). A submitted job waits for a free
/// thread; the queue is unbounded, so callers bound what they submit (a delivery loop with a fixed
/// number of sends in flight does).
///
/// A thread that has had no job for `idleInterval` runs `onIdle` (the pool's sweep of expired
/// connections), so idle sockets are closed even when no request comes.
///
/// `@unchecked Sendable`: `semaphore` points to a `sem_t` made in `init` and destroyed in `deinit`,
/// whose `sem_post` and `sem_timedwait` POSIX makes safe from any thread; all else that changes is in
/// `state`'s mutex.
final class HTTPClientThreads: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    private struct State {
        /// Jobs not yet taken: `jobs[head...]`.
        var jobs: [Job] = []
        var head = 0
        var isStopped = false
        /// Threads started and not yet ended.
        var running = 0
        /// Of those, the ones waiting for a job.
        var idle = 0
        var exitWaiters: [CheckedContinuation<Void, Never>] = []

        mutating func popJob() -> Job? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }
    }

    private let state = Mutex(State())
    private let limit: Int
    /// Posted once per job and once per thread on ``stop()``, so each wake-up has exactly one cause.
    private let semaphore: UnsafeMutablePointer<sem_t>
    private let idleInterval: Duration
    private let onIdle: @Sendable () -> Void

    init(count: Int, idleInterval: Duration, onIdle: @escaping @Sendable () -> Void) {
        precondition(count > 0, "an HTTP client needs at least one thread")
        limit = count
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        self.idleInterval = idleInterval
        self.onIdle = onIdle
    }

    private func startThread() {
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<HTTPClientThreads>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        precondition(status == 0, "pthread_create failed: \(status)")
        pthread_detach(thread)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Queues `job` for the next free thread; `false`, and `job` dropped, once stopped.
    func submit(_ job: @escaping Job) -> Bool {
        let (accepted, spawn) = state.withLock { state in
            guard !state.isStopped else { return (false, false) }
            state.jobs.append(job)
            // More jobs waiting than threads waiting for them, and room for another thread: start one.
            let spawn = state.jobs.count - state.head > state.idle && state.running < limit
            if spawn { state.running += 1 }
            return (true, spawn)
        }
        if spawn { startThread() }
        if accepted { sem_post(semaphore) }
        return accepted
    }

    /// Takes no more jobs; each thread ends once the jobs already queued are done.
    func stop() {
        let count = state.withLock { state in
            guard !state.isStopped else { return 0 }
            state.isStopped = true
            return state.running
        }
        for _ in 0..<count { sem_post(semaphore) }
    }

    /// Returns once every thread has ended (after ``stop()``).
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = state.withLock { state in
                guard state.running > 0 else { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if ended { continuation.resume() }
        }
    }

    private func run() {
        shopfloor_name_thread("sf-http-client")
        while true {
            state.withLock { $0.idle += 1 }
            let woken = waitForWake()
            state.withLock { $0.idle -= 1 }
            guard woken else {
                onIdle()
                continue
            }
            guard let job = state.withLock({ $0.popJob() }) else { break }
            job()
        }
        let waiters = state.withLock { state in
            state.running -= 1
            guard state.running == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.exitWaiters.removeAll() }
            return state.exitWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for a post: `true` when one came (a job, or the stop), `false` after `idleInterval` without.
    private func waitForWake() -> Bool {
        // sem_timedwait measures against CLOCK_REALTIME; a clock step only moves one sweep.
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let (seconds, attoseconds) = idleInterval.components
        let nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        deadline.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        while true {
            if sem_timedwait(semaphore, &deadline) == 0 { return true }
            let error = shopfloor_errno()
            if error == EINTR { continue }
            precondition(error == ETIMEDOUT, "sem_timedwait failed: \(error)")
            return false
        }
    }
}
