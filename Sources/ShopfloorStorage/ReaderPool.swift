import Synchronization

/// Read-only connections for concurrent queries beside the writer (WAL lets readers see the last
/// committed state without blocking it).
///
/// Reads are synchronous: a closure holds its connection only while it runs and never awaits, so at
/// most one connection per running thread is in use. The pool keeps that many; if all are taken it
/// opens a short-lived one rather than block a thread of the cooperative pool.
///
/// `@unchecked Sendable`: `connections` never changes after `init`, and each is handed to one thread
/// at a time through `free`, the mutex-guarded list of idle indices.
public final class ReaderPool: @unchecked Sendable {
    private let path: String
    private let connections: [SQLiteConnection]
    private let free: Mutex<[Int]>

    init(path: String, count: Int) throws {
        self.path = path
        connections = try (0..<count).map { _ in try ReaderPool.open(path) }
        free = Mutex(Array(0..<count))
    }

    private static func open(_ path: String) throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        // Memory-mapped reads share the OS page cache between connections instead of copying every
        // page through read(2) into each connection's own cache; the search index is read this way.
        try connection.execute("PRAGMA query_only = ON; PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -8000")
        return connection
    }

    /// Runs `body` in one read transaction, so all its queries see the same committed state and the
    /// WAL read lock is taken once. The connection is valid only inside `body`.
    public func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        guard let index = free.withLock({ $0.popLast() }) else {
            return try ReaderPool.transaction(ReaderPool.open(path), body)
        }
        defer { free.withLock { $0.append(index) } }
        return try ReaderPool.transaction(connections[index], body)
    }

    private static func transaction<T>(_ connection: SQLiteConnection, _ body: (SQLiteConnection) throws -> T) throws -> T {
        try connection.run("BEGIN")
        do {
            let result = try body(connection)
            try connection.run("COMMIT")
            return result
        } catch {
            _ = try? connection.run("ROLLBACK")
            throw error
        }
    }
}
