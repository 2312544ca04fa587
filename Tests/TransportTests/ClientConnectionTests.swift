#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ShopfloorTransport

/// What a scripted peer did and what the client then saw, brought back from the client's thread.
private struct Outcome: Sendable {
    var lines: [String] = []
    var error: ClientConnectionError?
    var peerHost = ""
}

/// Connects a `ClientConnection` to a listener on 127.0.0.1, lets `server` act on the accepted socket,
/// then reads lines with `maxLength` and `timeout` until an error or `count` lines, on a thread of its own.
private func exchange(
    host: String = "127.0.0.1", count: Int = 10, maxLength: Int = 100, timeout: Duration = .seconds(5),
    server: @escaping @Sendable (Socket) -> Void
) async throws -> Outcome {
    try await onThread {
        let listener = try Socket.makeListening(address: try SocketAddress.resolve(host: "127.0.0.1", port: 0), reusePort: false, backlog: 4)
        defer { listener.close() }
        let connection = try ClientConnection.connect(host: host, port: try listener.localAddress().port, timeout: .seconds(5))
        defer { connection.close() }
        _ = try listener.waitUntil(Int16(POLLIN), deadline: .now + .seconds(5))
        guard let accepted = try listener.accept()?.socket else { throw TestSetupFailure(description: "nothing to accept") }
        server(accepted)
        var outcome = Outcome(peerHost: connection.peer.host)
        do {
            while outcome.lines.count < count {
                outcome.lines.append(String(decoding: try connection.readLine(maxLength: maxLength, timeout: timeout), as: UTF8.self))
            }
        } catch let error as ClientConnectionError {
            outcome.error = error
        }
        accepted.close()
        return outcome
    }
}

private func send(_ text: String, on socket: Socket) {
    _ = Array(text.utf8).withUnsafeBytes { try? socket.write($0) }
}

@Suite struct ClientConnectionTests {
    @Test func linesComeWithoutTheirEndingsAndWhatFollowsIsKept() async throws {
        let outcome = try await exchange(count: 4) { socket in send("250-first\r\n250 second\nthird\r\n\r\n", on: socket) }
        #expect(outcome.lines == ["250-first", "250 second", "third", ""])
        #expect(outcome.error == nil)
    }

    @Test func lineOfTheLimitIsReadOneLongerIsAnError() async throws {
        let outcome = try await exchange(count: 2, maxLength: 10) { socket in
            send("0123456789\r\n01234567890\r\n", on: socket)
        }
        #expect(outcome.lines == ["0123456789"])
        guard case .lineTooLong(10) = outcome.error else {
            Issue.record("expected lineTooLong, got \(String(describing: outcome.error))")
            return
        }
    }

    @Test func endlessLineIsRefusedWithoutWaitingForItsEnd() async throws {
        let outcome = try await exchange(maxLength: 100) { socket in send(String(repeating: "x", count: 5000), on: socket) }
        guard case .lineTooLong(100) = outcome.error else {
            Issue.record("expected lineTooLong, got \(String(describing: outcome.error))")
            return
        }
    }

    @Test func silentPeerTimesOut() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await exchange(timeout: .milliseconds(200)) { _ in }
        guard case .timedOut(operation: "read") = outcome.error else {
            Issue.record("expected a timeout, got \(String(describing: outcome.error))")
            return
        }
        #expect(clock.now - start >= .milliseconds(200))
    }

    @Test func peerClosingMidLineIsReported() async throws {
        let outcome = try await exchange { socket in
            send("220 hello\r\n250 cut", on: socket)
            // End of stream without closing: `exchange` closes the socket, and a second close could
            // hit a descriptor another test has opened since.
            socket.shutdownWrite()
        }
        #expect(outcome.lines == ["220 hello"])
        guard case .closedByPeer = outcome.error else {
            Issue.record("expected closedByPeer, got \(String(describing: outcome.error))")
            return
        }
    }

    @Test func localhostReachesAnIPv4OnlyListener() async throws {
        // `localhost` may resolve to ::1 first; nothing listens there, so the next address is tried.
        let outcome = try await exchange(host: "localhost", count: 1) { socket in send("ok\r\n", on: socket) }
        #expect(outcome.lines == ["ok"])
        #expect(outcome.peerHost == "127.0.0.1")
    }

    @Test func refusedConnectionIsASystemError() async throws {
        let error = try await onThread { () -> ClientConnectionError? in
            // A socket bound but not listening holds its port, and the kernel refuses connections to it.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let bound = Socket(fd: fd)
            defer { bound.close() }
            let address = try SocketAddress.resolve(host: "127.0.0.1", port: 0)
            guard fd >= 0, address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
                throw TestSetupFailure(description: "cannot bind a probe socket")
            }
            let port = try bound.localAddress().port
            do throws(ClientConnectionError) {
                _ = try ClientConnection.connect(host: "127.0.0.1", port: port, timeout: .seconds(5))
                return nil
            } catch {
                return error
            }
        }
        guard case .system(let failure) = error else {
            Issue.record("expected a system error, got \(String(describing: error))")
            return
        }
        #expect(failure.errno == ECONNREFUSED)
    }

    @Test func addressesTheCallerRefusesAreNeverConnectedTo() async throws {
        let (error, asked, port, pending) = try await onThread { () -> (ClientConnectionError?, [String], Int, Bool) in
            let listener = try Socket.makeListening(address: try SocketAddress.resolve(host: "127.0.0.1", port: 0), reusePort: false, backlog: 4)
            defer { listener.close() }
            let port = try listener.localAddress().port
            var asked: [String] = []
            var error: ClientConnectionError?
            do throws(ClientConnectionError) {
                let connection = try ClientConnection.connect(host: "127.0.0.1", port: port, timeout: .seconds(5)) { address in
                    asked.append(address.description)
                    return false
                }
                connection.close()
            } catch let refused {
                error = refused
            }
            // Nothing reached the listener: a connection would be waiting to be accepted.
            let readiness = try listener.waitUntil(Int16(POLLIN), deadline: .now + .milliseconds(50))
            return (error, asked, port, readiness == .ready)
        }
        guard case .addressRefused("127.0.0.1", let addresses) = error else {
            Issue.record("expected addressRefused, got \(String(describing: error))")
            return
        }
        #expect(addresses.map(\.host) == ["127.0.0.1"])
        #expect(asked == ["127.0.0.1:\(port)"])
        #expect(!pending)
    }

    @Test func readReturnsWhatIsLeftAfterALineThenWhatArrives() async throws {
        let (line, rest, more) = try await onThread { () -> (String, String, String) in
            let listener = try Socket.makeListening(address: try SocketAddress.resolve(host: "127.0.0.1", port: 0), reusePort: false, backlog: 4)
            defer { listener.close() }
            let connection = try ClientConnection.connect(host: "127.0.0.1", port: try listener.localAddress().port, timeout: .seconds(5))
            defer { connection.close() }
            _ = try listener.waitUntil(Int16(POLLIN), deadline: .now + .seconds(5))
            guard let accepted = try listener.accept()?.socket else { throw TestSetupFailure(description: "nothing to accept") }
            defer { accepted.close() }
            send("head\r\nbody", on: accepted)
            let line = String(decoding: try connection.readLine(maxLength: 100, timeout: .seconds(5)), as: UTF8.self)
            let rest = String(decoding: try connection.read(timeout: .seconds(5)), as: UTF8.self)
            send("more", on: accepted)
            let more = String(decoding: try connection.read(timeout: .seconds(5)), as: UTF8.self)
            return (line, rest, more)
        }
        #expect(line == "head")
        #expect(rest == "body")
        #expect(more == "more")
    }
}
