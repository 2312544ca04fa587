import Foundation

/// A thread of its own for blocking work, fed one job at a time in order: an outbound connection's
/// dialogue (SMTP) waits on the network, which must never happen on the cooperative pool or an
/// event loop.
///
/// `@unchecked Sendable`: `jobs` and `stopped` are touched only under `condition`'s lock.
final class BlockingWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopped = false

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the worker's thread after the jobs queued before it, and returns its value.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            enqueue { continuation.resume(returning: body()) }
        }
    }

    /// Runs `last` (a goodbye to the server) after the queued jobs, then ends the thread.
    func stop(after last: @escaping @Sendable () -> Void) {
        enqueue(last)
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func enqueue(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
