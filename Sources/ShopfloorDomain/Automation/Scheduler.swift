public import Logging
import Synchronization

/// Durable timers (API.md, Automation): a timer is a row, set in the transaction of the change that
/// wants it, and fired once the injected clock reaches it, earliest first, however far the clock has
/// jumped (a restart, the test clock).
///
/// Guarantee: **at least once, effects once.** Firing a timer is one write job that removes the row
/// (only if it is still the row that was read: a timer moved or cancelled meanwhile is left alone) and
/// runs the kind's handler in the same transaction. A crash before the commit leaves the row, so it
/// fires again after the restart; once committed, the row is gone with the handler's effects. A
/// handler that throws rolls back alone and its timer is tried again a minute later.
public final class Scheduler: Sendable {
    /// Runs a fired timer inside the transaction that removes it.
    public typealias Handler = @Sendable (ScheduledTimer, any WriteTransaction) throws -> Void

    private let store: any TimerStore
    private let writer: any StoreWriter
    private let clock: any WallClock
    private let logger: Logger
    private let handlers = Mutex<[String: Handler]>([:])
    private let wakeups = Wakeups()

    /// Timers fired per pass; each is its own job, and the writer commits them in groups.
    static let batchSize = 1_000
    /// How long a timer whose handler failed waits before it is tried again.
    static let retryDelay: Int64 = 60_000

    public init(stores: Stores, clock: any WallClock, logger: Logger = Logger(label: "shopfloor.scheduler")) {
        store = stores.timers
        writer = stores.writer
        self.clock = clock
        self.logger = logger
        let wakeups = wakeups
        // A commit that sets a timer due now wakes the loop instead of leaving it to the next tick.
        stores.writer.observeCommits { transaction in
            guard transaction.transactionNotes.contains(where: { $0 is TimerSet }) else { return nil }
            return { wakeups.wake() }
        }
    }

    /// Sets `handler` for timers of `kind`; call before ``run(tick:)``.
    public func register(_ kind: String, handler: @escaping Handler) {
        handlers.withLock { $0[kind] = handler }
    }

    /// Sets (or moves) timer `key` to fire at `milliseconds`, in the caller's transaction.
    public func schedule(_ kind: String, key: String, ref: String, at milliseconds: Int64, in transaction: any WriteTransaction) throws {
        try store.schedule(ScheduledTimer(key: key, kind: kind, ref: ref, dueMilliseconds: milliseconds), in: transaction)
        if milliseconds <= clock.milliseconds { transaction.transactionNotes.append(TimerSet()) }
    }

    /// Sets timer `key` unless it is already set; `true` when it was not.
    @discardableResult
    public func scheduleIfAbsent(_ kind: String, key: String, ref: String, at milliseconds: Int64, in transaction: any WriteTransaction) throws -> Bool {
        try store.scheduleIfAbsent(ScheduledTimer(key: key, kind: kind, ref: ref, dueMilliseconds: milliseconds), in: transaction)
    }

    public func cancel(_ key: String, in transaction: any WriteTransaction) throws {
        try store.cancel(key: key, in: transaction)
    }

    /// Fires timers until none is due (tests call it after moving the clock); returns how many fired.
    @discardableResult
    public func fireDue() async -> Int {
        var fired = 0
        while true {
            let now = clock.milliseconds
            let due: [ScheduledTimer]
            do {
                due = try store.due(at: now, limit: Self.batchSize)
            } catch {
                logger.error("reading due timers failed", metadata: ["error": "\(error)"])
                return fired
            }
            if due.isEmpty { return fired }
            fired += await fire(due)
            if due.count < Self.batchSize { return fired }
        }
    }

    /// Fires each timer as its own job, queued in due order so the writer runs them in that order.
    private func fire(_ timers: [ScheduledTimer]) async -> Int {
        let handlers = handlers.withLock { $0 }
        let (store, logger) = (store, logger)
        let results = await writer.writeEach(timers.map { timer in
            { @Sendable transaction -> Bool in
                guard try store.take(timer, in: transaction) else { return false }
                guard let handler = handlers[timer.kind] else {
                    logger.error("no handler for timers of kind \(timer.kind); dropped \(timer.key)")
                    return false
                }
                try handler(timer, transaction)
                return true
            }
        })
        var fired = 0
        var failed: [ScheduledTimer] = []
        for (timer, result) in zip(timers, results) {
            switch result {
            case .success(let ran): if ran { fired += 1 }
            case .failure(let error):
                logger.error("timer \(timer.key) failed, trying again in a minute", metadata: ["error": "\(error)"])
                failed.append(timer)
            }
        }
        if !failed.isEmpty { await postpone(failed) }
        return fired
    }

    /// Moves failed timers a minute on, so one bad timer does not hold up the rest.
    private func postpone(_ timers: [ScheduledTimer]) async {
        let (store, later) = (store, clock.milliseconds + Self.retryDelay)
        do {
            try await writer.write { transaction in
                for var timer in timers {
                    guard try store.take(timer, in: transaction) else { continue }
                    timer.dueMilliseconds = later
                    try store.schedule(timer, in: transaction)
                }
            }
        } catch {
            logger.error("postponing failed timers failed", metadata: ["error": "\(error)"])
        }
    }

    /// Fires due timers until cancelled: a pass every `tick`, and at once after a commit that set a
    /// timer already due.
    public func run(tick: Duration = .milliseconds(250)) async {
        await wakeups.run(tick: tick) { [self] in await fireDue() }
    }
}

/// Left in a transaction that set a timer already due.
struct TimerSet: Sendable {}
