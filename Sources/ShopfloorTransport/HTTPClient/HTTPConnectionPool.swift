import Synchronization

/// Idle keep-alive connections by origin, for the client's threads to share.
///
/// Reuse is last-in first-out: the connection used most recently is the least likely to have been
/// closed by the server, and the ones beneath it age out. A connection idle longer than `lifetime` is
/// closed instead of reused (at the next check-out or check-in, or a thread's idle sweep); past
/// `maxIdlePerOrigin` the oldest is closed. After ``close()`` nothing is pooled again.
///
/// `@unchecked Sendable`: `idle` and `isClosed` are touched only under `lock`. A connection in `idle`
/// belongs to no thread; ``checkOut(_:now:)`` hands it to exactly one, which owns it until it checks it
/// back in or closes it, so a `ClientConnection` is never used by two threads at once.
final class HTTPConnectionPool: @unchecked Sendable {
    private struct IdleConnection {
        let connection: ClientConnection
        let since: ContinuousClock.Instant
    }

    private let lock = Mutex(())
    private var idle: [HTTPOrigin: [IdleConnection]] = [:]
    private var isClosed = false
    private let maxIdlePerOrigin: Int
    private let lifetime: Duration

    init(maxIdlePerOrigin: Int, lifetime: Duration) {
        self.maxIdlePerOrigin = maxIdlePerOrigin
        self.lifetime = lifetime
    }

    /// Whether ``close()`` was called: a request starting now must not open a connection.
    var isShutDown: Bool { lock.withLock { _ in isClosed } }

    /// The most recently used idle connection to `origin` that is younger than the lifetime.
    func checkOut(_ origin: HTTPOrigin, now: ContinuousClock.Instant) -> ClientConnection? {
        var found: ClientConnection?
        var expired: [IdleConnection] = []
        lock.withLock { _ in
            guard var stack = idle[origin], let newest = stack.popLast() else { return }
            if now - newest.since < lifetime {
                found = newest.connection
                idle[origin] = stack.isEmpty ? nil : stack
            } else {
                // Everything beneath it is older still.
                expired = stack + [newest]
                idle[origin] = nil
            }
        }
        for entry in expired { entry.connection.close() }
        return found
    }

    /// Keeps `connection` for reuse, or closes it once the pool is closed. Expired connections of every
    /// origin go on the way.
    func checkIn(_ connection: ClientConnection, origin: HTTPOrigin, now: ContinuousClock.Instant) {
        var dropped: [ClientConnection] = []
        lock.withLock { _ in
            guard !isClosed else {
                dropped.append(connection)
                return
            }
            dropped = removeExpired(now: now)
            var stack = idle[origin, default: []]
            stack.append(IdleConnection(connection: connection, since: now))
            if stack.count > maxIdlePerOrigin { dropped.append(stack.removeFirst().connection) }
            idle[origin] = stack
        }
        for connection in dropped { connection.close() }
    }

    /// Closes the connections idle longer than the lifetime.
    func closeExpired(now: ContinuousClock.Instant) {
        let dropped = lock.withLock { _ in removeExpired(now: now) }
        for connection in dropped { connection.close() }
    }

    /// Closes every idle connection and pools none from now on.
    func close() {
        let dropped = lock.withLock { _ in
            isClosed = true
            defer { idle.removeAll() }
            return idle.values.flatMap { $0.map(\.connection) }
        }
        for connection in dropped { connection.close() }
    }

    /// The number of idle connections to `origin`, for tests.
    func idleCount(_ origin: HTTPOrigin) -> Int {
        lock.withLock { _ in idle[origin]?.count ?? 0 }
    }

    /// Takes out the expired connections; the caller holds `lock` and closes them after releasing it.
    private func removeExpired(now: ContinuousClock.Instant) -> [ClientConnection] {
        var expired: [ClientConnection] = []
        for (origin, stack) in idle {
            // Oldest first: the expired ones are a prefix.
            let kept = stack.drop { now - $0.since >= lifetime }
            guard kept.count < stack.count else { continue }
            expired += stack[..<kept.startIndex].map(\.connection)
            idle[origin] = kept.isEmpty ? nil : Array(kept)
        }
        return expired
    }
}
