import CSQLite
import Foundation
public import Logging

/// The embedded store: one SQLite file in WAL mode, one ``Writer`` and a ``ReaderPool``.
///
/// Opening applies the migrations before anything else can touch the file.
public final class Database: Sendable {
    /// The database file.
    public let path: String
    public let writer: Writer
    public let readers: ReaderPool
    private let checkpointer: WALCheckpointer

    /// Opens (creating if needed) `shopfloor.sqlite` in `directory` and migrates it. A sync of the WAL
    /// slower than `slowSync` (a disk that stalls every acknowledgement) is logged to `logger`.
    public init(
        directory: String, migrations: [Migration], readerCount: Int = 4, checkpoints: CheckpointPolicy = .standard,
        logger: Logger = Logger(label: "shopfloor.storage"), slowSync: Duration = .milliseconds(100)
    ) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("shopfloor.sqlite")
        let connection = try SQLiteConnection(path: path, readOnly: false)
        // Statement and savepoint journals (a batch that is run again has a savepoint per job) hold the
        // first change to each page: in memory (`temp_store`) that is a copy, on disk a write and a
        // read-back per page. The cache holds a whole batch's pages, so none spill to the WAL before
        // the commit. Debian builds SQLite with `secure_delete` on, which writes pages of zeros for every
        // page freed; `FAST` zeroes deleted content only on pages a write already touches (SQLite's own
        // default is off).
        try connection.execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA temp_store = MEMORY;
            PRAGMA cache_size = -65536;
            PRAGMA secure_delete = FAST;
            """)
        try Migrator.migrate(connection, migrations: migrations)
        // From here on a commit only writes the WAL; the writer's flusher syncs it before anyone hears.
        try connection.execute("PRAGMA synchronous = NORMAL")
        readers = try ReaderPool(path: path, count: readerCount)
        checkpointer = try WALCheckpointer(path: path, policy: checkpoints)
        checkpointer.install(on: connection)
        writer = Writer(connection: connection, path: path, logger: logger, slowSync: slowSync)
    }

    /// Waits for queued writes and their syncs, then ends the writer's threads and the checkpointer's.
    public func close() {
        writer.close()
        checkpointer.close()
    }
}
