import Dispatch
import Foundation
import ShopfloorStorage
import Synchronization
import Testing

private let items = Migration(
    version: 1, name: "items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)")

private struct Refused: Error, Equatable {
    let value: String
}

/// Opens a database with the `items` table in a temporary directory and always closes it.
private func withDatabase(_ body: (Database) async throws -> Void) async throws {
    try await withTemporaryDirectory { directory in
        let database = try Database(directory: directory, migrations: [items])
        defer { database.close() }
        try await body(database)
    }
}

private func insert(_ value: String, into database: Database) async throws -> Int64 {
    try await database.writer.write { connection in
        try connection.run("INSERT INTO items (value) VALUES (?)", [.text(value)])
        return connection.lastInsertRowID
    }
}

private func values(in database: Database) throws -> [String] {
    try database.readers.read { try $0.query("SELECT value FROM items ORDER BY value").compactMap { $0["value"]?.string } }
}

/// Something a test blocks the writer thread on, so that writes queue up behind it.
private final class Latch: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func open() { semaphore.signal() }
}

/// How many tasks have reached the point just before their write.
private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .acquiring) }
    func increment() { count.add(1, ordering: .releasing) }
}

/// Values in the order a commit observer's durable steps handed them over.
private final class Recorder: Sendable {
    private let recorded = Mutex<[String]>([])
    var values: [String] { recorded.withLock { $0 } }
    func append(_ values: [String]) { recorded.withLock { $0.append(contentsOf: values) } }
}

@Suite struct WriterTests {
    @Test func writeIsVisibleToReadersOnceAwaited() async throws {
        try await withDatabase { database in
            let id = try await insert("visible", into: database)
            #expect(id == 1)
            let row = try database.readers.read { try $0.query("SELECT value FROM items WHERE id = ?", [.integer(id)]) }
            #expect(row == [["value": "visible"]])
        }
    }

    @Test func writeReturnsItsClosureValue() async throws {
        try await withDatabase { database in
            let result = try await database.writer.write { connection -> [String] in
                try connection.run("INSERT INTO items (value) VALUES ('a'), ('b')")
                return try connection.query("SELECT value FROM items ORDER BY id").compactMap { $0["value"]?.string }
            }
            #expect(result == ["a", "b"])
        }
    }

    @Test func writeRunsInsideATransaction() async throws {
        try await withDatabase { database in
            let inTransaction = try await database.writer.write { $0.inTransaction }
            #expect(inTransaction)
        }
    }

    /// More writes than one batch takes (512): every one commits, the ones beyond a batch in the next.
    @Test func concurrentWritesAllCommitWithDistinctRowIDs() async throws {
        try await withDatabase { database in
            let count = 1_200
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<count {
                    group.addTask { try await insert("row-\(index)", into: database) }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(ids.count == count)
            #expect(Set(ids) == Set(1...Int64(count)))
            #expect(try values(in: database).count == count)
            #expect(try database.readers.read { try $0.query("SELECT COUNT(DISTINCT value) AS n FROM items").first?["n"] } == .integer(Int64(count)))
        }
    }

    @Test func failingWriteIsRolledBackAloneWhileItsBatchCommits() async throws {
        try await withDatabase { (database: Database) async throws in
            // Hold the writer thread inside a first write so the next three queue up and run as one batch.
            let latch = Latch()
            let started = Latch()
            let blocker = Task { try await database.writer.write { connection -> Int64 in
                started.open()
                latch.wait()
                try connection.run("INSERT INTO items (value) VALUES ('blocker')")
                return connection.lastInsertRowID
            } }
            await withCheckedContinuation { continuation in
                Thread { started.wait(); continuation.resume() }.start()
            }
            let queued = Counter()
            let before = Task { queued.increment(); return try await insert("before", into: database) }
            let failing = Task {
                queued.increment()
                return try await database.writer.write { connection -> Int64 in
                    try connection.run("INSERT INTO items (value) VALUES ('doomed')")
                    throw Refused(value: "doomed")
                }
            }
            let after = Task { queued.increment(); return try await insert("after", into: database) }
            while queued.value < 3 { await Task.yield() }
            latch.open()

            #expect(try await blocker.value > 0)
            #expect(try await before.value > 0)
            await #expect(throws: Refused(value: "doomed")) { try await failing.value }
            #expect(try await after.value > 0)
            #expect(try values(in: database) == ["after", "before", "blocker"])
        }
    }

    @Test func memoLastsForItsTransactionOnly() async throws {
        try await withDatabase { database in
            let within = try await database.writer.write { connection -> [Int?] in
                let before = connection.memo("test", "k", as: Int.self)
                connection.memoize(7, "test", "k", dependsOn: ["items"])
                return [before, connection.memo("test", "k", as: Int.self), connection.memo("test", "other", as: Int.self)]
            }
            #expect(within == [nil, 7, nil])
            let next = try await database.writer.write { $0.memo("test", "k", as: Int.self) }
            #expect(next == nil)
        }
    }

    @Test func memoIsDroppedWhenATableItDependsOnChanges() async throws {
        try await withDatabase { database in
            let seen = try await database.writer.write { connection -> [Int?] in
                try connection.run("CREATE TABLE unrelated (id INTEGER PRIMARY KEY, value TEXT)")
                connection.memoize(1, "test", "k", dependsOn: ["items"])
                try connection.run("INSERT INTO unrelated (value) VALUES ('x')")
                let afterUnrelated = connection.memo("test", "k", as: Int.self)
                try connection.run("INSERT INTO items (value) VALUES ('changed')")
                let afterItems = connection.memo("test", "k", as: Int.self)
                connection.memoize(2, "test", "k", dependsOn: ["items"])
                try connection.run("UPDATE items SET value = 'again'")
                return [afterUnrelated, afterItems, connection.memo("test", "k", as: Int.self)]
            }
            #expect(seen == [1, nil, nil])
        }
    }

    @Test func memoIsKeptOnlyByTheWritersConnection() async throws {
        try await withDatabase { database in
            let kept = try database.readers.read { connection -> Int? in
                connection.memoize(3, "test", "k", dependsOn: [])
                return connection.memo("test", "k", as: Int.self)
            }
            #expect(kept == nil)
        }
    }

    /// Jobs of one batch share the memo, and a job rolled back to its savepoint takes it with it: what
    /// it left may describe rows it wrote, which are gone.
    @Test func memoSpansABatchAndGoesWithAFailedJob() async throws {
        try await withDatabase { (database: Database) async throws in
            let latch = Latch()
            let started = Latch()
            let blocker = Task { try await database.writer.write { _ in
                started.open()
                latch.wait()
            } }
            await withCheckedContinuation { continuation in
                Thread { started.wait(); continuation.resume() }.start()
            }
            // Queued in this order while the writer is held, so the four run as one batch.
            let seen = Mutex<[String: Result<Int?, any Error>]>([:])
            func queue(_ name: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> Int?) {
                database.writer.enqueue(body) { result in seen.withLock { $0[name] = result } }
            }
            queue("first") { connection in
                defer { connection.memoize(1, "test", "k", dependsOn: []) }
                return connection.memo("test", "k", as: Int.self)
            }
            queue("second") { $0.memo("test", "k", as: Int.self) }
            queue("failing") { connection in
                connection.memoize(9, "test", "k", dependsOn: [])
                throw Refused(value: "memo")
            }
            queue("last") { $0.memo("test", "k", as: Int.self) }
            latch.open()
            try await blocker.value
            // Completions run in commit order: once a later write is back, the four have reported.
            try await database.writer.write { _ in }

            let results = seen.withLock { $0 }
            #expect(try results["first"]?.get() == .some(nil))
            #expect(try results["second"]?.get() == 1)
            #expect(throws: Refused(value: "memo")) { try results["failing"]?.get() }
            #expect(try results["last"]?.get() == .some(nil))
        }
    }

    @Test func constraintViolationFailsOnlyThatWrite() async throws {
        try await withDatabase { database in
            _ = try await insert("taken", into: database)
            let duplicate = Task { try await insert("taken", into: database) }
            let fresh = Task { try await insert("fresh", into: database) }
            let error = await #expect(throws: SQLiteError.self) { try await duplicate.value }
            #expect(error?.primaryCode == 19)  // SQLITE_CONSTRAINT
            #expect(error?.code == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(try await fresh.value > 0)
            #expect(try values(in: database) == ["fresh", "taken"])
        }
    }

    @Test func commitObserversRunOnTheWriterThenOnceDurableBeforeTheWritersResume() async throws {
        try await withDatabase { database in
            // The observer takes each commit's notes; its second step records them, in commit order.
            let durable = Recorder()
            database.writer.observeCommits { connection in
                let values = connection.transactionNotes.compactMap { $0 as? String }
                return { durable.append(values) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let value = "row-\(index)"
                        _ = try await database.writer.write { connection in
                            try connection.run("INSERT INTO items (value) VALUES (?)", [.text(value)])
                            connection.transactionNotes.append(value)
                        }
                        // Resumed only after its commit's durable step has run.
                        #expect(durable.values.contains(value))
                    }
                }
                try await group.waitForAll()
            }
            let committed = try database.readers.read { try $0.query("SELECT value FROM items ORDER BY id").compactMap { $0["value"]?.string } }
            #expect(durable.values == committed)
        }
    }

    @Test func queuedWritesFinishBeforeClose() async throws {
        try await withTemporaryDirectory { directory in
            let database = try Database(directory: directory, migrations: [items])
            let id = try await insert("durable", into: database)
            database.close()
            let reopened = try Database(directory: directory, migrations: [items])
            defer { reopened.close() }
            #expect(try reopened.readers.read { try $0.query("SELECT value FROM items WHERE id = ?", [.integer(id)]) } == [["value": "durable"]])
        }
    }
}
