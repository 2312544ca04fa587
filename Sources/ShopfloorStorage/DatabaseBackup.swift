import CSQLite
import Foundation

/// `shopfloor backup` and `shopfloor restore`: a consistent copy of a live database in one file, with
/// the data directory's key files inside it, and its return into an empty data directory.
///
/// The copy is made with SQLite's online backup API in a single step, which reads every page inside
/// one read transaction: a snapshot of one moment. In WAL mode a reader never holds a writer, so the
/// server goes on committing meanwhile (only its checkpoints stop short of the snapshot until the copy
/// ends). Copying in several steps would not hold writers less, and under a steady load it would never
/// end: a step after another connection's commit starts the copy again.
public enum DatabaseBackup {
    /// Why a backup or a restore was refused.
    public enum Failure: Error, CustomStringConvertible {
        case exists(String)
        case notEmpty(String)
        case notABackup(String)
        case corrupt(String, detail: String)
        case sqlite(SQLiteError)

        public var description: String {
            switch self {
            case .exists(let path): "\(path) exists already: a backup never overwrites a file"
            case .notEmpty(let path): "\(path) holds a database already: restore into an empty data directory"
            case .notABackup(let path): "\(path) is not a Shopfloor backup"
            case .corrupt(let path, let detail): "\(path) failed its integrity check: \(detail)"
            case .sqlite(let error): "\(error)"
            }
        }
    }

    /// The table of the copy that carries the data directory's files.
    private static let filesTable = "shopfloor_backup_files"

    /// Copies the database at `source` into the new file `destination` (mode 0600), with `files` (name
    /// → contents) kept in it, and checks the copy's integrity. Returns the copy's newest event `seq`.
    @discardableResult
    public static func backup(database source: String, to destination: String, files: [String: [UInt8]]) throws -> Int64 {
        guard !FileManager.default.fileExists(atPath: destination) else { throw Failure.exists(destination) }
        do {
            let from = try SQLiteConnection(path: source, readOnly: true)
            let to = try SQLiteConnection(path: destination, readOnly: false)
            chmod(destination, 0o600)
            try copy(from: from, to: to)
            try to.execute("PRAGMA journal_mode=DELETE")
            try to.execute("CREATE TABLE \(filesTable) (name TEXT PRIMARY KEY, content BLOB NOT NULL)")
            for (name, content) in files.sorted(by: { $0.key < $1.key }) {
                _ = try to.run("INSERT INTO \(filesTable) (name, content) VALUES (?, ?)", [.text(name), .blob(content)])
            }
            try check(to, path: destination)
            return try newestSeq(to)
        } catch let error as SQLiteError {
            throw Failure.sqlite(error)
        }
    }

    /// Writes the backup at `source` as the database `destination` (which must not exist) and
    /// returns the files it carried, to be written beside it; checks the result's integrity.
    public static func restore(from source: String, into destination: String) throws -> [String: [UInt8]] {
        guard !FileManager.default.fileExists(atPath: destination) else { throw Failure.notEmpty(destination) }
        do {
            let from = try SQLiteConnection(path: source, readOnly: true)
            guard try !from.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(filesTable)]).isEmpty else {
                throw Failure.notABackup(source)
            }
            try check(from, path: source)
            let to = try SQLiteConnection(path: destination, readOnly: false)
            chmod(destination, 0o600)
            try copy(from: from, to: to)
            var files: [String: [UInt8]] = [:]
            for row in try to.query("SELECT name, content FROM \(filesTable)") {
                if case .text(let name)? = row["name"], case .blob(let content)? = row["content"] { files[name] = content }
            }
            try to.execute("DROP TABLE \(filesTable)")
            try to.execute("PRAGMA journal_mode=WAL")
            try check(to, path: destination)
            return files
        } catch let error as SQLiteError {
            throw Failure.sqlite(error)
        }
    }

    /// The newest event's `seq` in a database, 0 for none.
    private static func newestSeq(_ connection: SQLiteConnection) throws -> Int64 {
        guard case .integer(let seq)? = try connection.query("SELECT COALESCE(MAX(seq), 0) AS seq FROM events").first?["seq"] else { return 0 }
        return seq
    }

    /// Every page of `from` into `to`, in one step (see the type's note).
    private static func copy(from: SQLiteConnection, to: SQLiteConnection) throws {
        guard let backup = sqlite3_backup_init(to.handle, "main", from.handle, "main") else { throw to.error(SQLITE_ERROR, sql: nil) }
        let status = sqlite3_backup_step(backup, -1)
        let finished = sqlite3_backup_finish(backup)
        guard status == SQLITE_DONE, finished == SQLITE_OK else { throw to.error(status == SQLITE_DONE ? finished : status, sql: nil) }
    }

    private static func check(_ connection: SQLiteConnection, path: String) throws {
        let rows = try connection.query("PRAGMA integrity_check")
        let result = rows.compactMap { row in row.values.first.flatMap { value -> String? in if case .text(let text) = value { text } else { nil } } }
        guard result == ["ok"] else { throw Failure.corrupt(path, detail: result.prefix(5).joined(separator: "; ")) }
    }
}
