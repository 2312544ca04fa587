import Foundation
import Logging
import ShopfloorAPI
import ShopfloorTesting
import ShopfloorTransport
import Testing
import TransportTesting

/// Whether `value` is an id the server made: a 12-hex-digit per-process prefix, `-`, a counter.
private func isGeneratedRequestID(_ value: String?) -> Bool {
    let parts = value?.split(separator: "-", omittingEmptySubsequences: false) ?? []
    guard parts.count == 2 else { return false }
    return parts[0].count == 12 && parts[0].allSatisfy { $0.isHexDigit && !$0.isUppercase }
        && !parts[1].isEmpty && parts[1].allSatisfy(\.isASCII) && UInt64(parts[1]) != nil
}

@Suite(.timeLimit(.minutes(1))) struct ApplicationTests {
    @Test func healthAnswersOK() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("GET", "/health")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.bodyText == #"{"status":"ok"}"#)
            #expect(isGeneratedRequestID(response.header("X-Request-Id")))
            #expect(response.header("Server") == "shopfloor")
        }
    }

    @Test func readyIs200WhenStartedAnd503WhenDraining() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let ready = try await client.request("GET", "/ready")
            #expect(ready.status == 200)
            #expect(ready.bodyText == #"{"status":"ready"}"#)

            server.application.lifecycle.enter(.draining)
            let draining = try await client.request("GET", "/ready")
            #expect(draining.status == 503)
            #expect(draining.header("Retry-After") == "1")
            let problem = try ProblemBody(draining.body)
            #expect(problem.code == "unavailable")
            #expect(problem.detail == "The server is shutting down.")
        }
    }

    @Test func openAPISpecIsServed() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("GET", "/openapi.yaml")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/yaml")
            #expect(response.bodyText.hasPrefix("openapi: 3.1"))
            #expect(response.header("Content-Encoding") == nil)
        }
    }

    @Test func openAPISpecIsGzippedForClientsThatAcceptIt() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let plain = try await client.request("GET", "/openapi.yaml")
            let gzipped = try await client.request("GET", "/openapi.yaml", headers: [("Accept-Encoding", "gzip")])
            #expect(gzipped.status == 200)
            #expect(gzipped.header("Content-Encoding") == "gzip")
            #expect(gzipped.header("Vary") == "Accept-Encoding")
            #expect(gzipped.body.count < plain.body.count)
            #expect(try GzipDecoder.decode(gzipped.body) == plain.body)
        }
    }

    @Test func headOnHealthHasLengthButNoBody() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let head = try await client.request("HEAD", "/health")
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "15")
            #expect(head.body.isEmpty)
            #expect(try await client.request("GET", "/health").bodyText == #"{"status":"ok"}"#)
        }
    }

    @Test func echoReturnsTheBodyAndType() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let binary: [UInt8] = Array(0...255) + Array("tail".utf8)
            let response = try await client.request("POST", "/v1/echo", headers: [("Content-Type", "application/x-test")], body: binary)
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/x-test")
            #expect(response.body == binary)
            let untyped = try await client.request("POST", "/v1/echo?delay_ms=0", body: Array("plain".utf8))
            #expect(untyped.header("Content-Type") == "application/octet-stream")
            #expect(untyped.bodyText == "plain")
        }
    }

    @Test func echoAcceptsChunkedBodies() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            try await client.send("POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyText == "Wikipedia")
        }
    }

    @Test(arguments: ["abc", "-1", "10001", "1.5", ""])
    func echoRejectsInvalidDelay(_ delay: String) async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("POST", "/v1/echo?delay_ms=\(delay)", body: Array("x".utf8))
            #expect(response.status == 400)
            #expect(response.header("Content-Type") == "application/problem+json")
            let problem = try ProblemBody(response.body)
            #expect(problem.status == 400)
            #expect(problem.code == "invalid_request")
            #expect(problem.detail == "delay_ms must be an integer from 0 to 10000.")
            #expect(isGeneratedRequestID(response.header("X-Request-Id")))
        }
    }

    @Test func echoIsNotServedUnlessEnabled() async throws {
        try await withTestServer(configure: { $0.enableEcho = false }) { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("POST", "/v1/echo", body: Array("x".utf8))
            #expect(response.status == 404)
            #expect(try ProblemBody(response.body).code == "not_found")
        }
    }

    @Test func generatedRequestIDsAreDistinct() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            var ids: [String] = []
            for _ in 0..<3 {
                ids.append(try await client.request("GET", "/health").header("X-Request-Id") ?? "")
            }
            #expect(ids.allSatisfy(isGeneratedRequestID))
            #expect(Set(ids).count == 3)
        }
    }

    @Test(arguments: ["abc-123", "req_2025.11.23:42", String(repeating: "a", count: 128)])
    func saneRequestIDIsEchoed(_ id: String) async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("GET", "/health", headers: [("X-Request-Id", id)])
            #expect(response.header("X-Request-Id") == id)
        }
    }

    @Test(arguments: [String(repeating: "a", count: 129), String(repeating: "b", count: 200), "has space", "semi;colon", "quote\"", "é"])
    func unsafeRequestIDIsReplaced(_ id: String) async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("GET", "/health", headers: [("X-Request-Id", id)])
            #expect(response.status == 200)
            let replaced = response.header("X-Request-Id")
            #expect(replaced != id)
            #expect(isGeneratedRequestID(replaced), "got \(replaced ?? "nil")")
        }
    }

    @Test func unknownPathIsA404Problem() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("GET", "/v1/nowhere?x=1")
            #expect(response.status == 404)
            #expect(response.header("Content-Type") == "application/problem+json")
            let problem = try ProblemBody(response.body)
            #expect(problem.type == "about:blank")
            #expect(problem.title == "Not Found")
            #expect(problem.status == 404)
            #expect(problem.code == "not_found")
            #expect(problem.detail == "No resource at /v1/nowhere.")
            #expect(isGeneratedRequestID(response.header("X-Request-Id")))
        }
    }

    @Test func wrongMethodIsA405ProblemWithAllow() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("GET", "/v1/echo")
            #expect(response.status == 405)
            #expect(response.header("Allow") == "POST")
            #expect(try ProblemBody(response.body).status == 405)
            let health = try await client.request("DELETE", "/health")
            #expect(health.status == 405)
            #expect(health.header("Allow") == "GET, HEAD")
        }
    }

    @Test func oversizedBodyIsA413ProblemThenClose() async throws {
        try await withTestServer(configure: { $0.limits.maxBodySize = 1024 }) { server in
            let client = try await server.connect()
            defer { client.close() }
            try await client.send("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 413)
            #expect(response.closesConnection)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(isGeneratedRequestID(response.header("X-Request-Id")))
            let problem = try ProblemBody(response.body)
            #expect(problem.code == "payload_too_large")
            #expect(problem.detail == "The body is larger than 1024 bytes.")
            #expect(try await client.readUntilClose() == [])
        }
    }

    @Test func malformedRequestIsA400ProblemThenClose() async throws {
        try await withTestServer { server in
            let client = try await server.connect()
            defer { client.close() }
            try await client.send("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 400)
            #expect(response.closesConnection)
            let problem = try ProblemBody(response.body)
            #expect(problem.code == "invalid_request")
            #expect(problem.detail == "HTTP/1.1 requires exactly one Host field.")
            #expect(try await client.readUntilClose() == [])
        }
    }

    @Test func shutdownAnswersTheInFlightRequestAndClosesTheListener() async throws {
        let server = try await TestServer()
        let port = server.port
        let client = try await server.connect()
        defer { client.close() }
        // Both requests in one write: once the first is answered, the server has read the second too,
        // so the echo (held 1.5 s by its own delay) is in flight when shutdown begins. (At 300 ms a
        // machine busy with the rest of the suite sometimes answered it before the drain had begun.)
        try await client.send(
            TestHTTPClient.makeRequest("GET", "/health")
                + TestHTTPClient.makeRequest("POST", "/v1/echo?delay_ms=1500", body: Array("late".utf8)))
        let first = try await client.readResponse()
        #expect(first.status == 200)
        #expect(!first.closesConnection)
        async let shutdown: Void = server.shutdown()
        let response = try await client.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyText == "late")
        #expect(response.closesConnection)
        client.close()
        await shutdown
        await #expect(throws: TestHTTPClient.Failure.system(call: "connect", errno: ECONNREFUSED)) {
            _ = try await TestHTTPClient.connect(port: port)
        }
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory))
    }

    @Test func shutdownStopsTheServerThenEveryBackgroundJobThenTheDatabase() async throws {
        let logs = LogRecorder()
        let server = try await TestServer(logger: logs.logger)
        await server.shutdown()
        let records = logs.all
        func position(_ message: String, job: String? = nil) -> Int? {
            records.firstIndex { $0.message == message && $0.metadata["job"] == job }
        }
        let serverStopped = try #require(position("HTTP server stopped"))
        let databaseClosed = try #require(position("database closed"))
        for job in ["cart expiry", "stock eviction", "event pruning"] {
            let ended = try #require(position("background job ended", job: job), "\(job) never ended")
            #expect(serverStopped < ended, "\(job) ended while the server was still serving")
            #expect(ended < databaseClosed, "the database closed before \(job) ended")
        }
        #expect(position("Shopfloor stopped").map { databaseClosed < $0 } == true)
        #expect(!records.contains { $0.level >= .error })
    }

    @Test func testServerRemovesItsDirectoryWhenTheBodyThrows() async throws {
        struct Deliberate: Error {}
        var directory = ""
        await #expect(throws: Deliberate.self) {
            try await withTestServer { server in
                directory = server.dataDirectory
                #expect(FileManager.default.fileExists(atPath: directory))
                throw Deliberate()
            }
        }
        #expect(!directory.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }
}
