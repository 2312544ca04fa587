import Foundation
import Logging
import Synchronization

/// Makes committed transactions durable off the writer thread: one `fdatasync` of the write-ahead log
/// covers every commit queued before it, and only then are their callers told.
///
/// Why it is safe: the writer connection runs with `synchronous=NORMAL`, so a commit appends its
/// frames to the WAL with `write` and returns without syncing (SQLite still syncs around checkpoints,
/// which keeps the file uncorrupted). The frames are then in the page cache, so a killed process loses
/// nothing; a power cut would, until a sync of the WAL file reaches the disk, and that is what this
/// thread does before it runs a group's completions. `fdatasync` works on the file, not on the
/// descriptor, so syncing our own descriptor flushes the frames SQLite wrote through its own, and
/// every commit queued before the call began is covered by it. Readers may see a commit while its
/// sync runs: a power cut then takes back something seen but never acknowledged, never something
/// acknowledged.
///
/// Why a thread of its own: with `synchronous=FULL` the writer sat in `fsync` for every batch; now it
/// runs the next batch meanwhile, the way PostgreSQL's WAL writer overlaps flushing with new work.
/// Commits keep their order: groups complete in the order they were queued.
///
/// Why it warns: every acknowledgement waits for these syncs, so a disk that stalls them (a shared
/// virtual disk, writeback of a checkpoint in front of them) sets the latency tail whatever the rest of
/// the server does. A sync slower than the threshold is logged, at most one line a second with the count
/// and the slowest since the last line, so an operator looking at a slow p99 sees the disk's part in it.
///
/// `@unchecked Sendable`: `descriptor` and `slowSyncs` are touched only on the flusher thread; `queue` is
/// guarded by its mutex.
final class WALFlusher: @unchecked Sendable {
    private let path: String
    private var descriptor: Int32 = -1
    private let logger: Logger
    private let slowSync: Duration
    /// Syncs over the threshold since the last warning, the slowest of them, and when that warning went.
    private var slowSyncs = (count: 0, slowest: Duration.zero, loggedAt: ContinuousClock.Instant?.none)
    private let queue = Mutex<(groups: [@Sendable () -> Void], stopping: Bool)>(([], false))
    private let thread = WakeableThread(name: "sf-wal-flusher")

    /// `databasePath` is the database file; its WAL is the same name with `-wal` (SQLite's naming).
    /// Syncs slower than `slowSync` are reported to `logger` as warnings.
    init(databasePath: String, logger: Logger, slowSync: Duration) {
        path = databasePath + "-wal"
        self.logger = logger
        self.slowSync = slowSync
        thread.start { [self] in pass() }
    }

    deinit {
        if descriptor >= 0 { Foundation.close(descriptor) }
    }

    /// Runs `completion` on the flusher thread once everything committed before this call is on disk.
    func afterFlush(_ completion: @escaping @Sendable () -> Void) {
        queue.withLock { $0.groups.append(completion) }
        thread.wake()
    }

    /// Flushes and completes what is queued, then ends the thread. Blocks until it has.
    func close() {
        queue.withLock { $0.stopping = true }
        thread.wake()
        thread.join()
    }

    /// Syncs once for every group queued so far, then completes them in order; `false` once stopping.
    private func pass() -> Bool {
        let (groups, stopping) = queue.withLock { state in
            defer { state.groups.removeAll(keepingCapacity: true) }
            return (state.groups, state.stopping)
        }
        if !groups.isEmpty {
            flush()
            for group in groups { group() }
        }
        if stopping { reportSlowSyncs(now: .now) }
        return !stopping
    }

    /// Syncs the WAL's data to disk. A failed sync leaves the disk in a state nobody can vouch for (the
    /// kernel may have dropped the dirty pages), so the process stops rather than acknowledge writes
    /// that may be gone, as PostgreSQL does since its fsync failures of 2018.
    private func flush() {
        if descriptor < 0 {
            descriptor = open(path, O_RDWR | O_CLOEXEC)
            // No WAL yet means no frame has been written since the file was opened: nothing to sync.
            if descriptor < 0 && errno == ENOENT { return }
            guard descriptor >= 0 else { fatalError("cannot open \(path) to sync it: errno \(errno)") }
        }
        let start = ContinuousClock.now
        while fdatasync(descriptor) != 0 {
            guard errno == EINTR else { fatalError("fdatasync of \(path) failed: errno \(errno); committed writes may be lost") }
        }
        let end = ContinuousClock.now
        let took = start.duration(to: end)
        if took >= slowSync {
            slowSyncs.count += 1
            slowSyncs.slowest = max(slowSyncs.slowest, took)
        }
        if slowSyncs.loggedAt.map({ $0.duration(to: end) >= .seconds(1) }) ?? true { reportSlowSyncs(now: end) }
    }

    /// Logs the slow syncs counted since the last report, if any.
    private func reportSlowSyncs(now: ContinuousClock.Instant) {
        guard slowSyncs.count > 0 else { return }
        logger.warning(
            "slow WAL sync: acknowledgements waited for the disk",
            metadata: ["slow_syncs": "\(slowSyncs.count)", "slowest_ms": "\(Int(slowSyncs.slowest / .milliseconds(1)))", "path": "\(path)"])
        slowSyncs = (0, .zero, now)
    }
}
