#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTypes
import Logging
import Synchronization
import Testing
@testable import ShopfloorTransport

/// A client for loopback peers: `.any` addresses, and timeouts a loaded two-core machine meets.
///
/// The whole test run shares two cores and two cooperative threads, and a test can wait seconds for
/// its turn between two requests: idle connections are kept for a minute (expiry has its own tests in
/// `HTTPConnectionPoolTests`), and a test of one timeout sets the others to a minute, so it can tell
/// "the timeout ended it" (well under a minute, however slow the turn) from "nothing did".
private func makeClient(_ configure: (inout HTTPClientConfiguration) -> Void = { _ in }) throws -> HTTPClient {
    var configuration = HTTPClientConfiguration()
    configuration.addressPolicy = .any
    configuration.connectTimeout = .seconds(5)
    configuration.readTimeout = .seconds(60)
    configuration.totalTimeout = .seconds(60)
    configuration.idleConnectionLifetime = .seconds(60)
    configure(&configuration)
    return try HTTPClient(configuration: configuration)
}

/// Runs `body` with a client and shuts the client down, whether `body` returns or throws.
private func withClient<T>(
    _ configure: (inout HTTPClientConfiguration) -> Void = { _ in }, _ body: (HTTPClient) async throws -> T
) async throws -> T {
    let client = try makeClient(configure)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// `execute` with its typed error kept.
private func attempt(_ client: HTTPClient, _ request: HTTPClientRequest) async -> Result<HTTPClientResponse, HTTPClientError> {
    do {
        return .success(try await client.execute(request))
    } catch {
        return .failure(error)
    }
}

private func request(
    _ method: HTTPRequest.Method, _ url: String, fields: HTTPFields = [:], body: String = "", timeout: Duration? = nil
) throws -> HTTPClientRequest {
    HTTPClientRequest(method: method, url: try HTTPClientURL(url), headerFields: fields, body: Array(body.utf8), timeout: timeout)
}

private func request(_ url: String, fields: HTTPFields = [:], timeout: Duration? = nil) throws -> HTTPClientRequest {
    try request(.get, url, fields: fields, timeout: timeout)
}

private extension HTTPClientResponse {
    var text: String { String(decoding: body, as: UTF8.self) }

    func field(_ name: String) -> String? { headerFields[HTTPField.Name(name)!] }
}

/// What scripts saw, shared with the test.
private final class Record: Sendable {
    let requests = Mutex<[(connection: Int, request: PeerRequest)]>([])

    func add(_ request: PeerRequest, on connection: Int) {
        requests.withLock { $0.append((connection, request)) }
    }

    var all: [(connection: Int, request: PeerRequest)] { requests.withLock { $0 } }
}

/// Answers every request with its own body, naming the connection in `X-Connection`.
private func echo(_ record: Record, head: String = "HTTP/1.1 200 OK\r\n") -> @Sendable (PeerConnection, Int) -> Void {
    { connection, number in
        while let request = connection.readRequest() {
            record.add(request, on: number)
            connection.write(head + "X-Connection: \(number)\r\nContent-Length: \(request.body.count)\r\n\r\n" + String(decoding: request.body, as: UTF8.self))
        }
    }
}

/// Signalled once by a script, waited for by the test off the cooperative pool.
private final class Done: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    let value = Atomic<Int>(0)

    func finish(with value: Int) {
        self.value.store(value, ordering: .releasing)
        semaphore.signal()
    }

    func wait() async throws -> Int {
        let semaphore = semaphore
        let signalled = try await onThread { semaphore.wait(timeout: .now() + 20) == .success }
        guard signalled else { throw TestSetupFailure(description: "the script did not finish") }
        return value.load(ordering: .acquiring)
    }
}

/// Echoes bodies (`X-Target` names the target) and streams `/stream` in chunks, over the project's server.
private struct EchoResponder: HTTPResponder {
    static let chunks = (0..<6).map { [UInt8](repeating: UInt8(ascii: "a") + UInt8($0), count: 10_000) }

    func respond(to request: HTTPServerRequest) async -> HTTPServerResponse {
        if request.path == "/stream" {
            return HTTPServerResponse(status: .ok, body: .stream { writer in
                for chunk in Self.chunks { try await writer.write(chunk) }
            })
        }
        return HTTPServerResponse(status: .ok, headerFields: [HTTPField.Name("X-Target")!: request.head.path ?? ""], body: .bytes(request.body))
    }

    func errorResponse(for error: HTTPTransportError) -> HTTPServerResponse {
        HTTPServerResponse(status: .badRequest)
    }
}

private func startServer(tls: TLSContext? = nil) throws -> HTTPServer {
    let server = try HTTPServer(
        configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, threads: 1, tls: tls), responder: EchoResponder(),
        logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    server.start()
    return server
}

@Suite(.timeLimit(.minutes(2))) struct HTTPClientTests {
    // MARK: Keep-alive

    @Test func hundredSequentialRequestsShareOneConnection() async throws {
        let record = Record()
        let peer = try ScriptedPeer(echo(record))
        let url = "http://127.0.0.1:\(peer.port)/hooks/order?n="
        let responses = try await withClient { client in
            var responses: [HTTPClientResponse] = []
            for number in 0..<100 {
                responses.append(try await client.execute(try request(.post, url + String(number), body: "body \(number)")))
            }
            return responses
        }
        peer.stop()
        #expect(peer.accepted == 1)
        #expect(responses.map(\.statusCode) == Array(repeating: 200, count: 100))
        #expect(responses.map(\.text) == (0..<100).map { "body \($0)" })
        #expect(responses.allSatisfy { !$0.isBodyTruncated && $0.field("X-Connection") == "1" })
        let first = try #require(record.all.first?.request)
        #expect(first.requestLine == "POST /hooks/order?n=0 HTTP/1.1")
        #expect(first.fields.map(\.name) == ["Host", "User-Agent", "Content-Length"])
        #expect(first.field("Host") == "127.0.0.1:\(peer.port)")
        #expect(first.field("User-Agent") == "shopfloor")
        #expect(first.field("Content-Length") == "6")
        #expect(record.all.count == 100)
    }

    @Test func connectionClosedWhileIdleIsReplacedAndTheRequestSentOnce() async throws {
        let record = Record()
        // Each connection answers one request as if it would take more, then closes.
        let peer = try ScriptedPeer { connection, number in
            guard let request = connection.readRequest() else { return }
            record.add(request, on: number)
            connection.write("HTTP/1.1 200 OK\r\nX-Connection: \(number)\r\nContent-Length: 0\r\n\r\n")
        }
        let responses = try await withClient { client in
            [try await client.execute(try request(.post, "http://127.0.0.1:\(peer.port)/a", body: "first")),
             try await client.execute(try request(.post, "http://127.0.0.1:\(peer.port)/b", body: "second"))]
        }
        peer.stop()
        #expect(responses.map(\.statusCode) == [200, 200])
        #expect(responses.map { $0.field("X-Connection") } == ["1", "2"])
        #expect(peer.accepted == 2)
        #expect(record.all.map(\.request.requestLine) == ["POST /a HTTP/1.1", "POST /b HTTP/1.1"])
    }

    @Test func freshConnectionClosedBeforeAnAnswerIsNotRetried() async throws {
        let peer = try ScriptedPeer { connection, _ in _ = connection.readRequest() }
        let result = try await withClient { client in await attempt(client, try request("http://127.0.0.1:\(peer.port)/")) }
        peer.stop()
        #expect(result == .failure(.connectionClosedEarly))
        #expect(peer.accepted == 1)
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nConnection: close\r\n", false, 3),
        ("HTTP/1.0 200 OK\r\n", false, 3),
        ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", false, 1),
        ("HTTP/1.1 200 OK\r\n", true, 3),
    ])
    func connectionIsReusedOnlyWhenBothSidesAllow(head: String, clientCloses: Bool, connections: Int) async throws {
        let record = Record()
        let peer = try ScriptedPeer { connection, number in
            guard let request = connection.readRequest() else { return }
            record.add(request, on: number)
            connection.write(head + "Content-Length: 2\r\n\r\nok")
            // A server that said it would close does so; the others wait for the next request.
            if head.contains("close") || (head.hasPrefix("HTTP/1.0") && !head.contains("keep-alive")) { return }
            echo(record, head: head)(connection, number)
        }
        let fields: HTTPFields = clientCloses ? [.connection: "close"] : [:]
        let bodies = try await withClient { client in
            var bodies: [String] = []
            for _ in 0..<3 { bodies.append(try await client.execute(try request("http://127.0.0.1:\(peer.port)/", fields: fields)).text) }
            return bodies
        }
        peer.stop()
        #expect(bodies.count == 3)
        #expect(peer.accepted == connections)
        #expect(record.all.allSatisfy { $0.request.field("Connection") == (clientCloses ? "close" : nil) })
    }

    @Test func concurrentRequestsShareABoundedSetOfConnections() async throws {
        let record = Record()
        let peer = try ScriptedPeer(echo(record))
        let url = "http://127.0.0.1:\(peer.port)/"
        let mismatches = try await withClient({ $0.maxConcurrentRequests = 8 }) { client in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        var mismatches = 0
                        for number in 0..<200 {
                            let body = "task \(task) request \(number)"
                            let response = try await client.execute(try request(.post, url, body: body))
                            if response.statusCode != 200 || response.text != body { mismatches += 1 }
                        }
                        return mismatches
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        peer.stop()
        #expect(mismatches == 0)
        #expect(record.all.count == 1600)
        #expect(peer.accepted >= 1)
        #expect(peer.accepted <= 8)
    }

    // MARK: Framing

    @Test func chunkedResponseArrivesWholeAndTheConnectionIsReused() async throws {
        let peer = try ScriptedPeer { connection, _ in
            while connection.readRequest() != nil {
                // Piece by piece, so the client sees the chunks cut anywhere.
                for piece in ["HTTP/1.1 200 OK\r\nTransfer-", "Encoding: chunked\r\n\r\n5;sig=x\r\nhel", "lo\r\n6\r\n world\r", "\n0\r\nX-Trailer: t\r\n\r\n"] {
                    connection.write(piece)
                }
            }
        }
        let bodies = try await withClient { client in
            [try await client.execute(try request("http://127.0.0.1:\(peer.port)/")).text,
             try await client.execute(try request("http://127.0.0.1:\(peer.port)/")).text]
        }
        peer.stop()
        #expect(bodies == ["hello world", "hello world"])
        #expect(peer.accepted == 1)
    }

    @Test func projectServerEchoesAndStreamsOverOneConnection() async throws {
        let server = try startServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.localAddress.port)"
        let (echoed, streamed, head) = try await withClient { client in
            (try await client.execute(try request(.put, base + "/items/7?x=1", body: "payload")),
             try await client.execute(try request(base + "/stream")),
             try await client.execute(try request(.head, base + "/stream")))
        }
        #expect(echoed.statusCode == 200)
        #expect(echoed.text == "payload")
        #expect(echoed.field("X-Target") == "/items/7?x=1")
        #expect(streamed.field("Transfer-Encoding") == "chunked")
        #expect(streamed.body == EchoResponder.chunks.flatMap { $0 })
        #expect(head.statusCode == 200)
        #expect(head.body.isEmpty)
    }

    @Test func redirectIsReturnedNotFollowed() async throws {
        let record = Record()
        let peer = try ScriptedPeer { connection, number in
            while let request = connection.readRequest() {
                record.add(request, on: number)
                connection.write("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n")
            }
        }
        let response = try await withClient { client in try await client.execute(try request("http://127.0.0.1:\(peer.port)/old")) }
        peer.stop()
        #expect(response.statusCode == 302)
        #expect(response.reasonPhrase == "Found")
        #expect(response.field("Location") == "http://127.0.0.1:1/elsewhere")
        #expect(record.all.count == 1)
    }

    @Test(arguments: ["Content-Length: 52428800\r\n", "Transfer-Encoding: chunked\r\n", ""])
    func fiftyMegabyteBodyIsCutAtTheLimit(framing: String) async throws {
        let total = 50 * 1024 * 1024
        let done = Done()
        let peer = try ScriptedPeer { connection, _ in
            guard connection.readRequest() != nil else { return done.finish(with: 0) }
            guard connection.write("HTTP/1.1 200 OK\r\n" + framing + "\r\n") else { return done.finish(with: 0) }
            let block = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            let chunk = framing.contains("chunked") ? Array("10000\r\n".utf8) + block + Array("\r\n".utf8) : block
            var written = 0
            while written < total, connection.write(chunk) { written += block.count }
            done.finish(with: written)
        }
        let response = try await withClient { client in try await client.execute(try request("http://127.0.0.1:\(peer.port)/big")) }
        let written = try await done.wait()
        peer.stop()
        #expect(response.statusCode == 200)
        #expect(response.isBodyTruncated)
        #expect(response.body == [UInt8](repeating: UInt8(ascii: "x"), count: 1024 * 1024))
        // The client closed instead of reading on: the server got rid of a few MiB at most (socket buffers).
        #expect(written < 16 * 1024 * 1024)
    }

    // MARK: Timeouts and failures

    @Test func silentPeerTimesOutOnRead() async throws {
        let peer = try ScriptedPeer { connection, _ in
            _ = connection.readRequest()
            connection.waitForClose()
        }
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await withClient({ $0.readTimeout = .milliseconds(200) }) { client in
            await attempt(client, try request("http://127.0.0.1:\(peer.port)/"))
        }
        let elapsed = clock.now - start
        peer.stop()
        #expect(result == .failure(.timeout(.read)))
        #expect(elapsed >= .milliseconds(200))
        #expect(elapsed < .seconds(30))
    }

    @Test func tricklingPeerRunsIntoTheTotalTimeout() async throws {
        let peer = try ScriptedPeer { connection, _ in
            guard connection.readRequest() != nil else { return }
            var alive = connection.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in 0..<200 where alive {
                usleep(20_000)
                alive = connection.write("x")
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await withClient({ $0.readTimeout = .seconds(1) }) { client in
            await attempt(client, try request("http://127.0.0.1:\(peer.port)/", timeout: .milliseconds(300)))
        }
        let elapsed = clock.now - start
        peer.stop()
        #expect(result == .failure(.timeout(.total)))
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(30))
    }

    @Test func refusedConnectionIsAConnectFailure() async throws {
        // A socket bound but not listening holds its port, and the kernel refuses connections to it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let bound = Socket(fd: fd)
        defer { bound.close() }
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 0)
        guard fd >= 0, address.withSockaddr({ bind(fd, $0, $1) }) == 0 else { throw TestSetupFailure(description: "cannot bind a probe socket") }
        let port = try bound.localAddress().port
        let result = try await withClient { client in await attempt(client, try request("http://127.0.0.1:\(port)/")) }
        #expect(result == .failure(.connectFailed(SystemError(call: "connect(127.0.0.1:\(port))", errno: ECONNREFUSED))))
    }

    @Test func unresolvableHostIsADNSFailure() async throws {
        // `.invalid` never resolves (RFC 6761 §6.4).
        let result = try await withClient { client in await attempt(client, try request("http://shopfloor-test.invalid/")) }
        guard case .failure(.dnsFailure(host: "shopfloor-test.invalid", let reason)) = result else {
            Issue.record("expected a DNS failure, got \(result)")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test(arguments: ["127.0.0.1", "localhost", "[::1]"])
    func publicOnlyRefusesLoopbackWithoutConnecting(host: String) async throws {
        let peer = try ScriptedPeer(echo(Record()))
        let result = try await withClient({ $0.addressPolicy = .publicOnly }) { client in
            await attempt(client, try request("http://\(host):\(peer.port)/"))
        }
        peer.stop()
        #expect(peer.accepted == 0)
        guard case .failure(.addressRefused(let refusedHost, let addresses)) = result else {
            Issue.record("expected addressRefused, got \(result)")
            return
        }
        #expect(refusedHost == host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.hasPrefix("127.") || $0 == "::1" }, "\(addresses)")
    }

    @Test func shutDownClientRefusesRequests() async throws {
        let client = try makeClient()
        await client.shutdown()
        #expect(await attempt(client, try request("http://127.0.0.1:1/")) == .failure(.shutDown))
    }

    // MARK: TLS

    @Test func trustedSelfSignedCertificateCarriesRequestsOverOneConnection() async throws {
        let directory = try TestDirectory()
        let (certificate, key) = try directory.makeCertificate(for: "localhost")
        let server = try startServer(tls: try TLSContext(certificatePath: certificate, keyPath: key))
        defer { server.stop() }
        let context = try TLSClientContext(additionalTrustedCertificatesPath: certificate)
        let responses = try await withClient({ $0.tlsContext = context }) { client in
            [try await client.execute(try request(.post, "https://localhost:\(server.localAddress.port)/secure", body: "over TLS")),
             try await client.execute(try request(.post, "https://localhost:\(server.localAddress.port)/again", body: "still"))]
        }
        #expect(responses.map(\.text) == ["over TLS", "still"])
        #expect(responses.map { $0.field("X-Target") } == ["/secure", "/again"])
        #expect(server.connectionCount <= 1)
    }

    @Test(arguments: [("other.example", false, "hostname mismatch"), ("localhost", true, "certificate has expired")])
    func certificateThatDoesNotNameTheHostOrHasExpiredIsRefused(name: String, expired: Bool, reason: String) async throws {
        let directory = try TestDirectory()
        let (certificate, key) = try directory.makeCertificate(for: name, expired: expired)
        let server = try startServer(tls: try TLSContext(certificatePath: certificate, keyPath: key))
        defer { server.stop() }
        let context = try TLSClientContext(additionalTrustedCertificatesPath: certificate)
        let result = try await withClient({ $0.tlsContext = context }) { client in
            await attempt(client, try request("https://localhost:\(server.localAddress.port)/"))
        }
        guard case .failure(.tlsFailure(_, let verification)) = result else {
            Issue.record("expected a TLS failure, got \(result)")
            return
        }
        #expect(verification == reason)
    }
}
