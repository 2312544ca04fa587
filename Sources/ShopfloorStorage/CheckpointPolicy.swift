/// When the write-ahead log is copied back into the database file (``Database``).
///
/// Every pass syncs the database file, and under a cart load the log grows fast: cart rows sit on
/// pages of their own, so each reservation adds three or four frames (about 15,000 a second at 4,500
/// reservations a second). Passes from 1,000 frames (SQLite's automatic threshold) and every 500 after
/// meant some thirty syncs of the database a second beside the WAL's own, and the tail of the cart
/// latency with them; the standard policy passes four times less often and bounds the log at about
/// 64 MiB.
public struct CheckpointPolicy: Sendable {
    /// WAL frames from which the background thread copies pages back (and again every half of this).
    public let backgroundFrames: Int32
    /// WAL frames from which the writer checkpoints itself, so that the log restarts.
    public let writerFrames: Int32

    /// A policy with the two thresholds, in WAL frames: at least 2 for the background (it is asked
    /// again every half of it), and more than that for the writer.
    public init(backgroundFrames: Int32, writerFrames: Int32) {
        precondition(2 <= backgroundFrames && backgroundFrames < writerFrames, "the writer's threshold lies above the background's")
        self.backgroundFrames = backgroundFrames
        self.writerFrames = writerFrames
    }

    /// 4,000 frames (16 MiB of 4 KiB pages) for the background, 16,000 for the writer.
    public static let standard = CheckpointPolicy(backgroundFrames: 4000, writerFrames: 16000)
}
