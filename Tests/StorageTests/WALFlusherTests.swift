import Logging
import ShopfloorStorage
import Synchronization
import Testing

private let items = Migration(version: 1, name: "items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")

/// What a logger was told, kept for the test to read.
private final class LogRecords: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    func append(_ record: Record) { records.withLock { $0.append(record) } }
    var all: [Record] { records.withLock { $0 } }

    var logger: Logger { Logger(label: "test") { _ in Handler(records: self) } }

    private struct Handler: LogHandler {
        let records: LogRecords
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            records.append(Record(level: event.level, message: event.message.description, metadata: merged.mapValues { $0.description }))
        }
    }
}

private func write(_ value: String, to database: Database) async throws {
    _ = try await database.writer.write { connection in
        try connection.run("INSERT INTO items (value) VALUES (?)", [.text(value)])
    }
}

@Suite struct WALFlusherTests {
    /// Every sync counts as slow under a zero threshold: the first is reported at once, the next ones
    /// within the second are counted into the next line (at the latest when the database closes), so a
    /// stalling disk gives one line a second, not one a sync, and every slow sync is in some line.
    @Test func slowSyncsAreReportedAtMostOnceASecond() async throws {
        let log = LogRecords()
        let clock = ContinuousClock()
        let start = clock.now
        try await withTemporaryDirectory { directory in
            let database = try Database(directory: directory, migrations: [items], logger: log.logger, slowSync: .zero)
            defer { database.close() }
            try await write("first", to: database)
            try await write("second", to: database)
            try await write("third", to: database)
        }
        let seconds = (clock.now - start).components.seconds
        let warnings = log.all.filter { $0.level == .warning }
        try #require(warnings.count >= 1)
        #expect(warnings.count <= 2 + Int(seconds))
        #expect(warnings.allSatisfy { $0.message.contains("slow WAL sync") })
        #expect(warnings[0].metadata["slow_syncs"] == "1")
        // One sync per write, each awaited before the next is queued.
        #expect(warnings.compactMap { Int($0.metadata["slow_syncs"] ?? "") }.reduce(0, +) == 3)
        #expect(warnings[0].metadata["path"]?.hasSuffix("shopfloor.sqlite-wal") == true)
        #expect(Int(warnings[0].metadata["slowest_ms"] ?? "") != nil)
    }

    @Test func syncsUnderTheThresholdAreNotReported() async throws {
        let log = LogRecords()
        try await withTemporaryDirectory { directory in
            let database = try Database(directory: directory, migrations: [items], logger: log.logger, slowSync: .seconds(3600))
            defer { database.close() }
            for index in 0..<20 { try await write("item \(index)", to: database) }
            #expect(try database.readers.read { try $0.query("SELECT COUNT(*) AS n FROM items") } == [["n": .integer(20)]])
        }
        #expect(log.all.isEmpty)
    }
}
