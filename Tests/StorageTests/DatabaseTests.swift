import Foundation
import ShopfloorStorage
import Testing

@Suite struct DatabaseTests {
    @Test func journalModeIsWAL() async throws {
        try await withTemporaryDirectory { directory in
            let database = try Database(directory: directory, migrations: [])
            defer { database.close() }
            let mode = try await database.writer.write { try $0.query("PRAGMA journal_mode").first?["journal_mode"] }
            #expect(mode == "wal")
            #expect(try database.readers.read { try $0.query("PRAGMA journal_mode").first?["journal_mode"] } == "wal")
            #expect(FileManager.default.fileExists(atPath: database.path + "-wal"))
        }
    }

    /// `synchronous` 1 = NORMAL: a WAL commit does not sync; the flusher's fdatasync does before anyone
    /// resumes. `foreign_keys` 1: enforced on the writer.
    @Test(arguments: ["synchronous", "foreign_keys"])
    func writerConnectionSetting(_ pragma: String) async throws {
        try await withTemporaryDirectory { directory in
            let database = try Database(directory: directory, migrations: [])
            defer { database.close() }
            let value = try await database.writer.write { try $0.query("PRAGMA \(pragma)").first?[pragma] }
            #expect(value == 1)
        }
    }

    /// `secure_delete` 2 = FAST, whatever the system SQLite was built with (Debian's builds it on).
    @Test func secureDeleteIsFast() async throws {
        try await withTemporaryDirectory { directory in
            let database = try Database(directory: directory, migrations: [])
            defer { database.close() }
            #expect(try await database.writer.write { try $0.query("PRAGMA secure_delete").first?["secure_delete"] } == 2)
        }
    }

    /// Text and blobs are bound in place, not copied: every shape of value reads back as bound, through
    /// one cached statement used again and again, including after a use whose body threw.
    @Test func boundValuesReadBackAsBound() async throws {
        try await withTemporaryDirectory { directory in
            let migration = Migration(version: 1, name: "values", sql: "CREATE TABLE bound (n INTEGER PRIMARY KEY, v)")
            let database = try Database(directory: directory, migrations: [migration])
            defer { database.close() }
            let values: [SQLiteValue] = [
                .text(""), .text("a"), .text("fifteen bytes!!"), .text(String(repeating: "long text ", count: 50)), .text("naïve — ✓ 🛒"),
                .text("nul\u{0}inside"), .blob([]), .blob([0, 1, 2, 255]), .null, .integer(-42), .real(2.5),
            ]
            try await database.writer.write { connection in
                for (index, value) in values.enumerated() {
                    try connection.run("INSERT INTO bound (n, v) VALUES (?, ?)", [.integer(Int64(index)), value])
                }
            }
            let read = try database.readers.read { connection in
                try values.indices.map { index in try connection.query("SELECT v FROM bound WHERE n = ?", [.integer(Int64(index))]).first?["v"] }
            }
            #expect(read == values)
            // A body that throws mid-scan leaves the statement reset: the next use reads every row again.
            struct Stop: Error {}
            let again = try database.readers.read { connection in
                let scan = "SELECT v FROM bound WHERE n >= ? ORDER BY n"
                #expect(throws: Stop.self) { try connection.forEachRow(scan, [.integer(0)]) { _ in throw Stop() } }
                var rows: [SQLiteValue] = []
                try connection.forEachRow(scan, [.integer(0)]) { rows.append($0.column(0)) }
                return rows
            }
            #expect(again == values)
            let types = try database.readers.read { connection in
                try connection.query("SELECT typeof(v) AS t FROM bound WHERE n IN (0, 6) ORDER BY n").map { $0["t"] }
            }
            #expect(types == ["text", "blob"])
        }
    }

    @Test func fileLivesInTheDataDirectoryWhichIsCreated() async throws {
        try await withTemporaryDirectory { directory in
            let nested = directory + "/a/b"
            let database = try Database(directory: nested, migrations: [])
            defer { database.close() }
            #expect(database.path == nested + "/shopfloor.sqlite")
            #expect(FileManager.default.fileExists(atPath: database.path))
        }
    }

    @Test func schemaMigrationsExistsAndRecordsMigrations() async throws {
        try await withTemporaryDirectory { directory in
            let migration = Migration(version: 1, name: "things", sql: "CREATE TABLE things (id INTEGER PRIMARY KEY)")
            let database = try Database(directory: directory, migrations: [migration])
            defer { database.close() }
            let tables = try database.readers.read {
                try $0.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0["name"]?.string }
            }
            #expect(tables == ["schema_migrations", "things"])
            let versions = try database.readers.read { try $0.query("SELECT version, name FROM schema_migrations") }
            #expect(versions == [["version": 1, "name": "things"]])
        }
    }

    @Test func readersCannotWrite() async throws {
        try await withTemporaryDirectory { directory in
            let migration = Migration(version: 1, name: "things", sql: "CREATE TABLE things (id INTEGER PRIMARY KEY)")
            let database = try Database(directory: directory, migrations: [migration])
            defer { database.close() }
            let error = try #require(throws: SQLiteError.self) {
                try database.readers.read { try $0.run("INSERT INTO things DEFAULT VALUES") }
            }
            #expect(error.primaryCode == 8)  // SQLITE_READONLY
        }
    }
}

@Suite struct WALCheckpointTests {
    /// Far more frames than the writer's checkpoint threshold (SQLite's own 1,000 and four times that
    /// here, to keep the test small): the pages reach the database file and the log restarts instead
    /// of growing with every write.
    @Test func walIsCopiedBackAndStaysBounded() async throws {
        let blobs = Migration(version: 1, name: "blobs", sql: "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        try await withTemporaryDirectory { directory in
            let database = try Database(
                directory: directory, migrations: [blobs], checkpoints: CheckpointPolicy(backgroundFrames: 1000, writerFrames: 4000))
            defer { database.close() }
            // 800 commits of 8 rows of 4 KiB: over 6,400 WAL frames, 26 MiB written.
            for _ in 0..<800 {
                try await database.writer.write { connection in
                    for _ in 0..<8 { try connection.run("INSERT INTO blobs (data) VALUES (randomblob(4096))") }
                }
            }
            let size = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
            #expect(try size(database.path + "-wal") < 20 * 1024 * 1024)
            #expect(try size(database.path) > 10 * 1024 * 1024)
            #expect(try database.readers.read { try $0.query("SELECT COUNT(*) AS n FROM blobs").first?["n"] } == 6_400)
        }
    }
}
