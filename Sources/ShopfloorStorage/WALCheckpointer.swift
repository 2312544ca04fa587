import CSQLite
import Synchronization

/// Copies the WAL back into the database file on a connection and thread of its own, so the writer
/// does not stop for the bulk of it.
///
/// Why: SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL frames, on the
/// writer: it copies every page back and syncs the database file, and every write queued behind it
/// waits (tens of milliseconds under load, the tail of the cart benchmark). Here a hook on the writer
/// connection replaces it: past the ``CheckpointPolicy``'s background threshold it asks this thread
/// for a `PASSIVE` checkpoint, which copies what readers allow while the writer goes on.
///
/// The log only starts again from its beginning once everything in it has been copied back, and a
/// writer that never pauses always has frames newer than the last pass. So past the writer threshold
/// the writer checkpoints itself, as SQLite would: by then the background has copied nearly
/// everything, so the writer's own pass is short, and the log restarts at its next transaction. The
/// WAL stays bounded.
///
/// `@unchecked Sendable`: `connection` is used only on the checkpointer thread and `askedAt` only on the
/// writer's (in its WAL hook); `state` is guarded by its mutex.
final class WALCheckpointer: @unchecked Sendable {
    private let policy: CheckpointPolicy
    private let connection: SQLiteConnection
    /// WAL frames when a pass was last asked for (0 after the log restarted); writer thread only.
    private var askedAt: Int32 = 0
    private let state = Mutex<(requested: Bool, stopping: Bool)>((false, false))
    private let thread = WakeableThread(name: "sf-checkpointer")

    init(path: String, policy: CheckpointPolicy) throws(SQLiteError) {
        self.policy = policy
        connection = try SQLiteConnection(path: path, readOnly: false)
        // A checkpoint syncs the WAL before copying and the database after, whatever this says.
        try connection.execute("PRAGMA synchronous = NORMAL")
        thread.start { [self] in pass() }
    }

    /// Takes checkpointing over from `writer`'s connection: its WAL hook replaces SQLite's automatic
    /// checkpoint. The checkpointer must outlive the connection's commits (``Database`` holds both).
    func install(on writer: SQLiteConnection) {
        sqlite3_wal_hook(writer.handle, { context, handle, _, frames in
            if let context, let handle { Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(frames: frames, writer: handle) }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// After each commit, on the writer thread, with the frames now in the WAL.
    private func committed(frames: Int32, writer: OpaquePointer) {
        if frames < askedAt { askedAt = 0 }
        if frames >= policy.writerFrames {
            // Busy when the background pass holds the checkpoint lock: the next commit tries again.
            _ = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        } else if frames >= policy.backgroundFrames && frames - askedAt >= policy.backgroundFrames / 2 {
            // A pass per half-threshold of new frames, not per commit: each pass syncs the database file.
            askedAt = frames
            request()
        }
    }

    /// Asks for a pass; asks made while one is pending are one ask.
    private func request() {
        let first = state.withLock { state in
            defer { state.requested = true }
            return !state.requested
        }
        if first { thread.wake() }
    }

    /// Ends the thread after the pass under way, if any. Blocks until it has.
    func close() {
        state.withLock { $0.stopping = true }
        thread.wake()
        thread.join()
    }

    /// One checkpoint if one was asked for; `false` once stopping.
    private func pass() -> Bool {
        let (requested, stopping) = state.withLock { state in
            defer { state.requested = false }
            return (state.requested, state.stopping)
        }
        guard !stopping else { return false }
        // SQLITE_BUSY (the writer's own pass holds the lock) is fine: the writer did the work.
        if requested { _ = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) }
        return true
    }
}
