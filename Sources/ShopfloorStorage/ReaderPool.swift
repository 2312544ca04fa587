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
        try connection.execute("PRAGMA query_only = ON")
        return connection
    }

    /// Runs `body` with a read-only connection; the connection is valid only inside it.
    public func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        guard let index = free.withLock({ $0.popLast() }) else {
            return try body(ReaderPool.open(path))
        }
        defer { free.withLock { $0.append(index) } }
        return try body(connections[index])
    }
}
