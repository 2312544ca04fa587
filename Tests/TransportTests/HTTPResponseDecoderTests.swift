import HTTPTypes
import Testing
import TransportTesting
@testable import ShopfloorTransport

private let limits = HTTPResponseDecoder.Limits(maxHeadBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 100)

/// Feeds `parts` in order, then the end of the stream if `atEnd`; the message once complete (parts
/// after it are not fed), `nil` if the input ran out first.
private func decode(
    _ parts: [[UInt8]], method: HTTPRequest.Method = .get, limits: HTTPResponseDecoder.Limits = limits, atEnd: Bool = false
) -> Result<HTTPResponseDecoder.Message?, HTTPResponseParseError> {
    var decoder = HTTPResponseDecoder(limits: limits, requestMethod: method)
    return Result { () throws(HTTPResponseParseError) in
        for part in parts {
            if case .complete(let message) = try decoder.receive(part) { return message }
        }
        return atEnd ? decoder.receiveEndOfStream() : nil
    }
}

private func decode(
    _ text: String, method: HTTPRequest.Method = .get, limits: HTTPResponseDecoder.Limits = limits, atEnd: Bool = false
) -> Result<HTTPResponseDecoder.Message?, HTTPResponseParseError> {
    decode([Array(text.utf8)], method: method, limits: limits, atEnd: atEnd)
}

/// Decodes `text` every way ``ChunkedInput`` delivers it and checks each way gives the same message.
private func decodeEveryWay(
    _ text: String, method: HTTPRequest.Method = .get, limits: HTTPResponseDecoder.Limits = limits, atEnd: Bool = false
) throws -> HTTPResponseDecoder.Message {
    let whole = try #require(try decode(text, method: method, limits: limits, atEnd: atEnd).get())
    for delivery in ChunkedInput(text) {
        let result = decode(delivery.parts, method: method, limits: limits, atEnd: atEnd)
        #expect(result == .success(whole), "\(delivery)")
    }
    return whole
}

private func makeResponse(
    _ code: Int, _ reason: String, fields: [(String, String)], body: String, truncated: Bool = false
) -> HTTPClientResponse {
    var headerFields = HTTPFields()
    for (name, value) in fields { headerFields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
    return HTTPClientResponse(statusCode: code, reasonPhrase: reason, headerFields: headerFields, body: Array(body.utf8), isBodyTruncated: truncated)
}

@Suite struct HTTPResponseDecoderTests {
    // MARK: Framing

    @Test func contentLengthBodyIsReadWhateverTheSplits() throws {
        let message = try decodeEveryWay("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Empty:\r\n\r\nhello")
        #expect(message.response == makeResponse(201, "Created", fields: [("Content-Type", "text/plain"), ("Content-Length", "5"), ("X-Empty", "")], body: "hello"))
        #expect(message.keepAlive)
    }

    @Test func chunkedBodyWithExtensionsAndTrailersIsJoined() throws {
        let message = try decodeEveryWay(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value;flag\r\nhello\r\n6 ; x=\"q\"\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n")
        #expect(message.response.body == Array("hello world".utf8))
        #expect(message.response.headerFields[.transferEncoding] == "chunked")
        #expect(message.keepAlive)
    }

    @Test func bodyWithoutLengthRunsToTheCloseAndEndsTheConnection() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
        let message = try decodeEveryWay(text, atEnd: true)
        #expect(message.response.body == Array("until the end".utf8))
        #expect(!message.keepAlive)
        #expect(decode(text) == .success(nil))
    }

    @Test func responseCutShortIsIncompleteAtTheEndOfTheStream() {
        #expect(decode("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", atEnd: true) == .success(nil))
        #expect(decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", atEnd: true) == .success(nil))
        #expect(decode("HTTP/1.1 200 OK\r\nContent-Le", atEnd: true) == .success(nil))
        #expect(decode("", atEnd: true) == .success(nil))
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
        ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", false),
        ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
        ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", true),
        ("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", false),
    ])
    func connectionIsKeptAliveAsTheVersionAndFieldsSay(text: String, keepAlive: Bool) throws {
        #expect(try decodeEveryWay(text).keepAlive == keepAlive)
    }

    @Test func bytesAfterTheResponseEndTheConnection() throws {
        let message = try #require(try decode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n").get())
        #expect(message.response.body == Array("ok".utf8))
        #expect(!message.keepAlive)
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", HTTPRequest.Method.head, 200),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .head, 200),
        ("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", .post, 204),
        ("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", .get, 304),
    ])
    func responsesThatCannotHaveABodyEndWithTheirHead(text: String, method: HTTPRequest.Method, code: Int) throws {
        let message = try decodeEveryWay(text, method: method)
        #expect(message.response.statusCode == code)
        #expect(message.response.body.isEmpty)
        #expect(message.keepAlive)
    }

    @Test func interimResponsesAreSkipped() throws {
        let message = try decodeEveryWay(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(message.response == makeResponse(200, "OK", fields: [("Content-Length", "2")], body: "ok"))
    }

    @Test func statusLineWithoutReasonIsAccepted() throws {
        #expect(try decodeEveryWay("HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n").response.reasonPhrase == "")
        #expect(try decodeEveryWay("HTTP/1.1 202 \r\nContent-Length: 0\r\n\r\n").response.reasonPhrase == "")
        #expect(try decodeEveryWay("HTTP/1.1 599 Odd but allowed\r\nContent-Length: 0\r\n\r\n").response.statusCode == 599)
    }

    @Test func identicalContentLengthsAreOneLength() throws {
        let message = try decodeEveryWay("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok")
        #expect(message.response.body == Array("ok".utf8))
    }

    // MARK: Body limit

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n",
    ])
    func bodyPastTheLimitIsCutThereAndEndsTheConnection(head: String) throws {
        let text = head + String(repeating: "b", count: 1000)
        let message = try decodeEveryWay(text)
        #expect(message.response.body == Array(repeating: UInt8(ascii: "b"), count: limits.maxBodyBytes))
        #expect(message.response.isBodyTruncated)
        #expect(!message.keepAlive)
    }

    @Test func bodyOfExactlyTheLimitIsWhole() throws {
        let body = String(repeating: "b", count: limits.maxBodyBytes)
        let fixed = try decodeEveryWay("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body)
        #expect(!fixed.response.isBodyTruncated)
        #expect(fixed.keepAlive)
        let chunked = try decodeEveryWay("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n\(body.prefix(50))\r\n32\r\n\(body.prefix(50))\r\n0\r\n\r\n")
        #expect(chunked.response.body.count == limits.maxBodyBytes)
        #expect(!chunked.response.isBodyTruncated)
    }

    // MARK: Refused

    @Test(arguments: [
        ("HTTP/1.1 20 OK\r\n\r\n", HTTPResponseParseError.malformedStatusLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 600 Beyond\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 099 Below\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 200OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1  200 OK\r\n\r\n", .malformedStatusLine),
        ("http/1.1 200 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 200 O\u{1}K\r\n\r\n", .malformedStatusLine),
        ("\r\n\r\n", .malformedStatusLine),
        ("ICY 200 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/2 200\r\n\r\n", .malformedStatusLine),
        ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion),
        ("HTTP/0.9 200 OK\r\n\r\n", .unsupportedVersion),
        ("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\n X-Leading: a\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\nX-Space : a\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\nX-Bare: a\rb\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\nX-LF: a\nb\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\nX-Nul: a\u{0}b\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", .conflictingContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .conflictingContentLength),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferEncoding),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", .unsupportedTransferEncoding),
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferEncoding),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", .conflictingFraming),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\u{1}\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad trailer\r\n\r\n", .malformedHeaderField),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", .unsolicitedSwitchingProtocols),
    ])
    func brokenResponsesAreRefusedWhateverTheSplits(text: String, error: HTTPResponseParseError) {
        for delivery in ChunkedInput(text) {
            #expect(decode(delivery.parts, atEnd: true) == .failure(error), "\(delivery)")
        }
    }

    @Test func headPastTheLimitIsRefusedBeforeItIsBuffered() {
        var decoder = HTTPResponseDecoder(limits: limits, requestMethod: .get)
        var fed = 0
        let endless = Array("HTTP/1.1 200 OK\r\nX-Long: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 4096)
        var error: HTTPResponseParseError?
        do throws(HTTPResponseParseError) {
            for byte in endless {
                fed += 1
                _ = try decoder.receive([byte])
            }
        } catch let thrown {
            error = thrown
        }
        #expect(error == .headTooLarge(limit: limits.maxHeadBytes))
        #expect(fed == limits.maxHeadBytes)
    }

    @Test func headOfExactlyTheLimitIsAccepted() throws {
        let start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: "
        let padding = limits.maxHeadBytes - start.utf8.count - 4
        let text = start + String(repeating: "p", count: padding) + "\r\n\r\n"
        #expect(text.utf8.count == limits.maxHeadBytes)
        #expect(try decodeEveryWay(text).response.statusCode == 200)
        let longer = start + String(repeating: "p", count: padding + 1) + "\r\n\r\n"
        for delivery in ChunkedInput(longer) {
            #expect(decode(delivery.parts) == .failure(.headTooLarge(limit: limits.maxHeadBytes)), "\(delivery)")
        }
    }

    @Test func endlessInterimResponsesRunIntoTheHeadLimit() {
        let text = String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 100)
        #expect(decode(text) == .failure(.headTooLarge(limit: limits.maxHeadBytes)))
    }

    @Test func fieldsPastTheCountAreRefused() throws {
        let fields = (1...11).map { "X-\($0): v\r\n" }.joined()
        #expect(decode("HTTP/1.1 200 OK\r\n\(fields)\r\n") == .failure(.tooManyHeaderFields(limit: 10)))
        let nine = (1...9).map { "X-\($0): v\r\n" }.joined()
        #expect(try decode("HTTP/1.1 200 OK\r\n\(nine)Content-Length: 0\r\n\r\n").get()?.response.headerFields.count == 10)
        let trailers = (1...11).map { "X-\($0): v\r\n" }.joined()
        #expect(decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\(trailers)\r\n") == .failure(.tooManyHeaderFields(limit: 10)))
    }

    @Test func trailersPastTheLimitAreRefused() {
        let trailer = "X-Big: " + String(repeating: "t", count: 2000) + "\r\n"
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailer + "\r\n"
        for delivery in ChunkedInput(text, edge: 8, samples: 16) {
            #expect(decode(delivery.parts) == .failure(.trailersTooLarge(limit: limits.maxHeadBytes)), "\(delivery)")
        }
    }

    @Test func endlessChunkLineIsRefused() {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + String(repeating: "e", count: 5000)
        #expect(decode(text) == .failure(.invalidChunk))
    }

    // MARK: Fuzz

    /// Valid responses cut into random pieces decode as they do whole.
    @Test func randomSplitsDecodeAsTheWhole() throws {
        let responses = [
            "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhello world",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n1\r\nd\r\n0\r\nT: v\r\n\r\n",
            "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnothing here",
            "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n" + String(repeating: "z", count: 300),
        ]
        var generator = SeededGenerator(seed: 42)
        for text in responses {
            let bytes = Array(text.utf8)
            let whole = decode([bytes], atEnd: true)
            for _ in 0..<200 {
                var parts: [[UInt8]] = []
                var rest = bytes[...]
                while !rest.isEmpty {
                    let length = Int.random(in: 1...min(rest.count, 16), using: &generator)
                    parts.append(Array(rest.prefix(length)))
                    rest = rest.dropFirst(length)
                }
                #expect(decode(parts, atEnd: true) == whole, "\(parts.map(\.count))")
            }
        }
    }

    /// Random bytes, and valid responses with random bytes changed, end in an error or an incomplete
    /// or complete response: never a trap, never a loop, and garbage is never a response.
    @Test func randomInputNeverTrapsOrLoops() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("HTTP/1.0 200\r\n:;, \t0123456789abcdefxX-\u{0}\u{7F}\u{FF}".utf8)
        for round in 0..<2000 {
            let length = Int.random(in: 0...300, using: &generator)
            let garbage = (0..<length).map { _ in
                round % 2 == 0 ? UInt8.random(in: 0...255, using: &generator) : alphabet.randomElement(using: &generator)!
            }
            if case .success(.some) = decode([garbage], atEnd: true) {
                Issue.record("garbage decoded as a response: \(garbage)")
            }
        }
        let valid = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n4\r\nabcd\r\n0\r\n\r\n".utf8)
        for _ in 0..<2000 {
            var mutated = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = alphabet.randomElement(using: &generator)!
            }
            let parts = stride(from: 0, to: mutated.count, by: 7).map { Array(mutated[$0..<min($0 + 7, mutated.count)]) }
            _ = decode(parts, atEnd: true)
        }
    }
}
