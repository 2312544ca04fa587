import Testing
@testable import ShopfloorTransport

/// Runs `body` with `count` connections to a listener on 127.0.0.1 that never accepts them (the
/// kernel completes their handshakes all the same), on a thread of its own.
private func withConnections<T: Sendable>(_ count: Int, _ body: @escaping @Sendable ([ClientConnection]) -> T) async throws -> T {
    try await onThread {
        let listener = try Socket.makeListening(address: try SocketAddress.resolve(host: "127.0.0.1", port: 0), reusePort: false, backlog: 16)
        defer { listener.close() }
        let port = try listener.localAddress().port
        let connections = try (0..<count).map { _ in try ClientConnection.connect(host: "127.0.0.1", port: port, timeout: .seconds(5)) }
        return body(connections)
    }
}

private let origin = HTTPOrigin(scheme: .http, host: "example.com", port: 80)
private let other = HTTPOrigin(scheme: .https, host: "example.com", port: 443)

@Suite struct HTTPConnectionPoolTests {
    @Test func newestIdleConnectionIsReusedFirstAndTheOldestBeyondTheLimitIsClosed() async throws {
        let outcome = try await withConnections(3) { connections in
            let pool = HTTPConnectionPool(maxIdlePerOrigin: 2, lifetime: .seconds(10))
            let start = ContinuousClock.now
            for (offset, connection) in connections.enumerated() {
                pool.checkIn(connection, origin: origin, now: start + .seconds(offset))
            }
            let kept = pool.idleCount(origin)
            let taken = (0..<3).map { _ in pool.checkOut(origin, now: start + .seconds(3)) }
            let identities = taken.map { taken in taken.flatMap { connection in connections.firstIndex { $0 === connection } } }
            return (kept, identities, pool.checkOut(other, now: start) == nil)
        }
        #expect(outcome.0 == 2)
        #expect(outcome.1 == [2, 1, nil])
        #expect(outcome.2)
    }

    @Test func connectionIdleForItsLifetimeIsClosedNotReused() async throws {
        let outcome = try await withConnections(2) { connections in
            let pool = HTTPConnectionPool(maxIdlePerOrigin: 8, lifetime: .seconds(10))
            let start = ContinuousClock.now
            pool.checkIn(connections[0], origin: origin, now: start)
            pool.checkIn(connections[1], origin: origin, now: start + .seconds(5))
            pool.closeExpired(now: start + .seconds(12))
            let afterSweep = pool.idleCount(origin)
            let young = pool.checkOut(origin, now: start + .seconds(12)) === connections[1]
            pool.checkIn(connections[1], origin: origin, now: start + .seconds(12))
            let expired = pool.checkOut(origin, now: start + .seconds(22))
            return (afterSweep, young, expired == nil, pool.idleCount(origin))
        }
        #expect(outcome.0 == 1)
        #expect(outcome.1)
        #expect(outcome.2)
        #expect(outcome.3 == 0)
    }

    @Test func closedPoolKeepsNothing() async throws {
        let outcome = try await withConnections(2) { connections in
            let pool = HTTPConnectionPool(maxIdlePerOrigin: 8, lifetime: .seconds(10))
            let now = ContinuousClock.now
            pool.checkIn(connections[0], origin: origin, now: now)
            pool.close()
            pool.checkIn(connections[1], origin: origin, now: now)
            return (pool.isShutDown, pool.idleCount(origin), pool.checkOut(origin, now: now) == nil)
        }
        #expect(outcome.0)
        #expect(outcome.1 == 0)
        #expect(outcome.2)
    }
}
