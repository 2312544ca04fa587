import Foundation
import HTTPTypes
import Testing
import TransportTesting
@testable import ShopfloorTransport

/// What the decoder produced for one input, in a form that can be compared across deliveries.
private struct Outcome: Equatable, CustomStringConvertible {
    enum Event: Equatable {
        case expectsContinue
        case request(head: HTTPRequest, body: [UInt8], keepAlive: Bool, expectsContinue: Bool)
    }

    var events: [Event] = []
    var error: HTTPParseError?

    var requests: [(head: HTTPRequest, body: [UInt8], keepAlive: Bool, expectsContinue: Bool)] {
        events.compactMap {
            if case .request(let head, let body, let keepAlive, let expectsContinue) = $0 { (head, body, keepAlive, expectsContinue) } else { nil }
        }
    }

    var description: String {
        let summary = events.map { event -> String in
            switch event {
            case .expectsContinue: "100-continue"
            case .request(let head, let body, let keepAlive, _):
                "\(head.method.rawValue) \(head.path ?? "") body=\(body.count) keepAlive=\(keepAlive)"
            }
        }
        return "events \(summary), error \(error.map { "\($0)" } ?? "none")"
    }
}

/// Feeds `parts` one after another to a fresh decoder, collecting every event until the input runs
/// out or the decoder throws.
private func decode(_ parts: [[UInt8]], limits: HTTPLimits = HTTPLimits()) -> Outcome {
    var decoder = HTTPRequestDecoder(limits: limits)
    var buffer = InboundBuffer()
    var outcome = Outcome()
    do throws(HTTPParseError) {
        for part in parts {
            buffer.append(contentsOf: part)
            while let event = try decoder.next(&buffer) {
                switch event {
                case .expectsContinue:
                    outcome.events.append(.expectsContinue)
                case .request(let request):
                    outcome.events.append(.request(
                        head: request.head, body: request.body, keepAlive: request.keepAlive, expectsContinue: request.expectsContinue))
                }
            }
        }
    } catch {
        outcome.error = error
    }
    return outcome
}

/// Decodes `input` whole, byte by byte and split in two at every boundary, expects every delivery to
/// give the same outcome, and returns it.
private func decodeEveryWay(
    _ input: [UInt8], limits: HTTPLimits = HTTPLimits(), edge: Int = 256, samples: Int = 64,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Outcome {
    let input = ChunkedInput(input, edge: edge, samples: samples)
    let reference = decode([input.bytes], limits: limits)
    for delivery in input.deliveries.dropFirst() {
        let outcome = decode(delivery.parts, limits: limits)
        #expect(outcome == reference, "fed \(delivery): \(outcome), whole: \(reference)", sourceLocation: sourceLocation)
    }
    return reference
}

private func decodeEveryWay(
    _ input: String, limits: HTTPLimits = HTTPLimits(), edge: Int = 256, samples: Int = 64,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Outcome {
    decodeEveryWay(Array(input.utf8), limits: limits, edge: edge, samples: samples, sourceLocation: sourceLocation)
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct HTTPRequestDecoderTests {
    // MARK: Pipelining and splitting

    @Test func pipelinedRequestsDecodeTheSameWhateverTheSplit() throws {
        let input = "GET /first?x=1 HTTP/1.1\r\nHost: shop.example\r\nAccept: */*\r\n\r\n"
            + "POST /second HTTP/1.1\r\nHost: shop.example\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
            + "POST /third HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nchunk\r\n7;ext=1\r\ned body\r\n0\r\nX-Checksum: abc\r\n\r\n"
        let outcome = decodeEveryWay(input)
        #expect(outcome.error == nil)
        let requests = outcome.requests
        try #require(requests.count == 3)
        #expect(requests.map(\.head.method) == [.get, .post, .post])
        #expect(requests.map(\.head.path) == ["/first?x=1", "/second", "/third"])
        #expect(requests.map(\.head.authority) == ["shop.example", "shop.example", "shop.example"])
        #expect(requests.map { String(decoding: $0.body, as: UTF8.self) } == ["", "hello world", "chunked body"])
        #expect(requests[1].head.headerFields[.contentType] == "text/plain")
        #expect(requests.map(\.keepAlive) == [true, true, true])
    }

    @Test func incompleteRequestYieldsNothingYet() throws {
        var decoder = HTTPRequestDecoder(limits: HTTPLimits())
        var buffer = InboundBuffer()
        buffer.append(contentsOf: bytes("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab"))
        #expect(try decoder.next(&buffer) == nil)
        #expect(decoder.isMidRequest)
        #expect(decoder.isReadingBody)
        buffer.append(contentsOf: bytes("cd"))
        let event = try #require(try decoder.next(&buffer))
        guard case .request(let request) = event else {
            Issue.record("expected a request, got \(event)")
            return
        }
        #expect(request.body == bytes("abcd"))
        #expect(!decoder.isMidRequest)
        #expect(buffer.isEmpty)
    }

    @Test func leadingEmptyLinesAreIgnored() {
        let outcome = decodeEveryWay("\r\n\r\nGET /after-crlf HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(outcome.error == nil)
        #expect(outcome.requests.map(\.head.path) == ["/after-crlf"])
    }

    @Test func hostBecomesAuthorityAndOtherFieldsAreKept() throws {
        let outcome = decodeEveryWay("GET /p HTTP/1.1\r\nHost: example.com:8080\r\nX-Thing:  padded value \t\r\nAccept: a\r\nAccept: b\r\n\r\n")
        let request = try #require(outcome.requests.first)
        #expect(request.head.authority == "example.com:8080")
        #expect(request.head.headerFields[.init("X-Thing")!] == "padded value")
        #expect(request.head.headerFields[values: .accept] == ["a", "b"])
        #expect(!request.head.headerFields.contains { $0.name.canonicalName == "host" })
    }

    // MARK: Limits

    @Test func requestLineOverLimitIsRefused() {
        let target = "/" + String(repeating: "a", count: 8 * 1024)
        let outcome = decode([bytes("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")])
        #expect(outcome.error == .requestLineTooLong(limit: 8 * 1024))
        // Refused before the line ends, so a client cannot make the server buffer it.
        let unterminated = decode([bytes("GET \(target)")])
        #expect(unterminated.error == .requestLineTooLong(limit: 8 * 1024))
        let byteByByte = decode(bytes("GET \(target)").map { [$0] })
        #expect(byteByByte.error == .requestLineTooLong(limit: 8 * 1024))
    }

    /// Lines from 4 under to 2 over the limit: whatever the limit's exact bound, a line must be accepted or
    /// refused the same way whether its CRLF arrives with it or a packet later.
    @Test(arguments: 28...34)
    func requestLineNearLimitDecodesTheSameWhateverTheSplit(_ length: Int) {
        var limits = HTTPLimits()
        limits.maxRequestLineLength = 32
        let line = "GET /" + String(repeating: "a", count: length - 5 - 9) + " HTTP/1.1"
        #expect(line.utf8.count == length)
        let outcome = decodeEveryWay(line + "\r\nHost: x\r\n\r\n", limits: limits)
        #expect(outcome.error == (length <= 32 ? nil : .requestLineTooLong(limit: 32)))
    }

    @Test func headerSectionOverLimitIsRefused() {
        let field = "X-Filler: " + String(repeating: "f", count: 1000) + "\r\n"
        let head = "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: field, count: 66)
        let outcome = decode([bytes(head + "\r\n")])
        #expect(outcome.error == .headersTooLarge(limit: 64 * 1024))
        // Refused before the section ends.
        let unterminated = decode([bytes(head)])
        #expect(unterminated.error == .headersTooLarge(limit: 64 * 1024))
        let byteByByte = decode(bytes(head).map { [$0] })
        #expect(byteByByte.error == .headersTooLarge(limit: 64 * 1024))
    }

    @Test func headerSectionJustUnderLimitIsAccepted() {
        // 64 fields of 1 KiB minus some slack, plus Host: within 64 KiB.
        let field = "X-Filler: " + String(repeating: "f", count: 1000) + "\r\n"
        let head = "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: field, count: 64) + "\r\n"
        let outcome = decodeEveryWay(head, edge: 8, samples: 8)
        #expect(outcome.error == nil)
        #expect(outcome.requests.count == 1)
    }

    /// Header sections (after the request line, final empty line included) from 60 to 70 bytes against a
    /// 64-byte limit: each must be accepted or refused the same way however the bytes arrive.
    @Test(arguments: 60...70)
    func headerSectionNearLimitDecodesTheSameWhateverTheSplit(_ size: Int) {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 64
        let filler = "X-F: " + String(repeating: "f", count: size - 9 - 2 - 7) + "\r\n"
        let section = "Host: x\r\n" + filler + "\r\n"
        #expect(section.utf8.count == size)
        let outcome = decodeEveryWay("GET / HTTP/1.1\r\n" + section, limits: limits)
        #expect(outcome.error == nil || outcome.error == .headersTooLarge(limit: 64))
    }

    @Test func hundredFieldsAreAcceptedAndOneMoreIsRefused() {
        let fields = (1...99).map { "X-F\($0): v\r\n" }.joined()
        let atLimit = decode([bytes("GET / HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n")])
        #expect(atLimit.error == nil)
        #expect(atLimit.requests.first?.head.headerFields.count == 99)
        let over = decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\n" + fields + "X-F100: v\r\n\r\n")
        #expect(over.error == .tooManyHeaders(limit: 100))
    }

    @Test func contentLengthOverLimitIsRefusedBeforeTheBody() {
        let outcome = decodeEveryWay("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n")
        #expect(outcome.error == .bodyTooLarge(limit: 1024 * 1024))
        #expect(outcome.events.isEmpty)
    }

    @Test func contentLengthAtLimitIsAccepted() throws {
        var limits = HTTPLimits()
        limits.maxBodySize = 16
        let outcome = decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n0123456789abcdef", limits: limits)
        #expect(outcome.error == nil)
        #expect(try #require(outcome.requests.first).body == bytes("0123456789abcdef"))
    }

    @Test func chunkedBodyOverLimitIsRefused() {
        var limits = HTTPLimits()
        limits.maxBodySize = 16
        let outcome = decodeEveryWay(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n9\r\n012345678\r\n0\r\n\r\n", limits: limits)
        #expect(outcome.error == .bodyTooLarge(limit: 16))
        #expect(outcome.events.isEmpty)
    }

    @Test func chunkedBodyOverDefaultLimitIsRefusedFromTheChunkSize() {
        // One chunk announcing 1 MiB + 1: refused from its size line, before any data.
        let outcome = decode([bytes("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n")])
        #expect(outcome.error == .bodyTooLarge(limit: 1024 * 1024))
    }

    @Test func chunkedBodyAtLimitIsAccepted() throws {
        var limits = HTTPLimits()
        limits.maxBodySize = 16
        let outcome = decodeEveryWay(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n", limits: limits)
        #expect(outcome.error == nil)
        #expect(try #require(outcome.requests.first).body == bytes("0123456789abcdef"))
    }

    @Test func trailerSectionOverLimitIsRefused() {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 64
        let trailer = "X-Trailer: " + String(repeating: "t", count: 80) + "\r\n"
        let outcome = decodeEveryWay(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n" + trailer + "\r\n", limits: limits)
        #expect(outcome.error == .headersTooLarge(limit: 64))
    }

    // MARK: Malformed heads

    @Test(arguments: [
        "GET\r\nHost: x\r\n\r\n",
        "GET /\r\nHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a\u{7F}b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTX/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.10\r\nHost: x\r\n\r\n",
        "GET / http/1.1\r\nHost: x\r\n\r\n",
    ])
    func malformedRequestLineIsRefused(_ input: String) {
        #expect(decodeEveryWay(input).error == .malformedRequestLine)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"])
    func unsupportedVersionIsRefused(_ version: String) {
        #expect(decodeEveryWay("GET / \(version)\r\nHost: x\r\n\r\n").error == .unsupportedVersion)
    }

    @Test func obsoleteLineFoldingIsRefused() {
        let outcome = decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\nX-Long: first\r\n second\r\n\r\n")
        #expect(outcome.error == .malformedHeader)
        let tab = decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\nX-Long: first\r\n\tsecond\r\n\r\n")
        #expect(tab.error == .malformedHeader)
    }

    @Test func whitespaceBeforeColonIsRefused() {
        // RFC 9112 §5.1: a server MUST reject whitespace between field name and colon.
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nHost : x\r\n\r\n").error == .malformedHeader)
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n").error == .malformedHeader)
    }

    @Test(arguments: [
        "NoColon",
        ": empty-name",
        "X-Bad\u{1}Name: v",
        "X-Ctl: a\u{1}b",
        "X-Bare-LF: a\nb",
    ])
    func malformedFieldLineIsRefused(_ line: String) {
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\n\(line)\r\n\r\n").error == .malformedHeader)
    }

    /// RFC 9112 §2.2: a head of bare LFs never has the CRLF CRLF it would be waited for; it is refused
    /// as soon as the LF is seen, however it is split.
    @Test func bareLineFeedsAreRefusedAtOnce() {
        #expect(decodeEveryWay("GET / HTTP/1.1\nHost: x\n\n").error == .malformedRequestLine)
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\n\n").error == .malformedHeader)
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\n\n").error == .malformedHeader)
    }

    @Test func anExpectationOtherThanContinueIsRefused() {
        #expect(decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\nhi").error == .unsupportedExpectation)
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue, x\r\n\r\n").error == .unsupportedExpectation)
    }

    @Test func theAbsoluteFormNamesTheAuthority() throws {
        let outcome = decodeEveryWay("GET http://Shop.Example:8080/v1/products?q=mug HTTP/1.1\r\nHost: other\r\n\r\n")
        let request = try #require(outcome.requests.first)
        #expect(request.head.authority == "Shop.Example:8080")
        #expect(request.head.path == "/v1/products?q=mug")
        #expect(HTTPRequestDecoder.absoluteForm("https://x")?.authority == "x")
        #expect(HTTPRequestDecoder.absoluteForm("https://x")?.path == "/")
        #expect(HTTPRequestDecoder.absoluteForm("https://x?a=1")?.path == "/?a=1")
        #expect(HTTPRequestDecoder.absoluteForm("/plain") == nil)
        #expect(HTTPRequestDecoder.absoluteForm("http://user@x/") == nil)
    }

    @Test func missingHostOnHTTP11IsRefused() {
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n").error == .invalidHost)
    }

    @Test func duplicateHostIsRefused() {
        #expect(decodeEveryWay("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").error == .invalidHost)
        #expect(decodeEveryWay("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n").error == .invalidHost)
    }

    @Test func http10WithoutHostIsAccepted() throws {
        let outcome = decodeEveryWay("GET /old HTTP/1.0\r\nAccept: */*\r\n\r\n")
        let request = try #require(outcome.requests.first)
        #expect(request.head.path == "/old")
        #expect(request.head.authority == nil)
    }

    /// A request with no header field at all is valid for HTTP/1.0 and an `invalidHost` for 1.1; either
    /// way it must never trap: the head's field range is empty when the request line's CRLF is followed
    /// directly by the final CRLF. Runs in a child process so a trap fails this test only.
    @Test func requestWithoutAnyFieldDoesNotTrap() async {
        await #expect(processExitsWith: .success) {
            var decoder = HTTPRequestDecoder(limits: HTTPLimits())
            var buffer = InboundBuffer()
            buffer.append(contentsOf: Array("GET / HTTP/1.0\r\n\r\n".utf8))
            guard case .request(let request)? = try? decoder.next(&buffer), request.head.path == "/" else { exit(1) }
            var strict = HTTPRequestDecoder(limits: HTTPLimits())
            var strictBuffer = InboundBuffer()
            strictBuffer.append(contentsOf: Array("GET / HTTP/1.1\r\n\r\n".utf8))
            do throws(HTTPParseError) {
                _ = try strict.next(&strictBuffer)
                exit(2)
            } catch {
                exit(error == .invalidHost ? 0 : 3)
            }
        }
    }

    // MARK: Framing

    @Test func contentLengthWithTransferEncodingIsRefused() {
        let outcome = decodeEveryWay(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(outcome.error == .conflictingFraming)
        let reversed = decodeEveryWay(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n")
        #expect(reversed.error == .conflictingFraming)
    }

    @Test(arguments: ["-1", "abc", "1e3", "0x10", "5, 6", "+5", "1 2", "9999999999999999999"])
    func invalidContentLengthIsRefused(_ value: String) {
        #expect(decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\n").error == .invalidContentLength)
    }

    @Test func emptyContentLengthIsRefused() {
        // RFC 9110 §8.6: Content-Length = 1*DIGIT; an empty value is not a length.
        #expect(decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n").error == .invalidContentLength)
    }

    @Test func differingContentLengthFieldsAreRefused() {
        #expect(decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd").error == .invalidContentLength)
    }

    @Test func repeatedEqualContentLengthIsOneLength() throws {
        let outcome = decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc")
        #expect(try #require(outcome.requests.first).body == bytes("abc"))
    }

    @Test func zeroContentLengthIsAnEmptyBody() throws {
        let outcome = decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(outcome.requests.map(\.head.path) == ["/", "/next"])
        #expect(try #require(outcome.requests.first).body.isEmpty)
    }

    @Test(arguments: ["gzip", "chunked, gzip", "gzip, chunked", "identity", "chunked, chunked"])
    func transferCodingOtherThanChunkedIsRefused(_ coding: String) {
        #expect(decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \(coding)\r\n\r\n").error == .unsupportedTransferEncoding)
    }

    @Test func transferEncodingOnHTTP10IsRefused() {
        #expect(decodeEveryWay("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").error == .unsupportedTransferEncoding)
    }

    @Test func transferCodingNameIsCaseInsensitive() throws {
        let outcome = decodeEveryWay("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(try #require(outcome.requests.first).body == bytes("abc"))
    }

    // MARK: Chunked bodies

    private func chunked(_ body: String) -> String {
        "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    }

    @Test func chunkExtensionsAreIgnored() throws {
        let outcome = decodeEveryWay(chunked("5;foo=bar\r\nhello\r\n6 ; name=\"quoted\";flag\r\n world\r\n0;last\r\n\r\n"))
        #expect(outcome.error == nil)
        #expect(try #require(outcome.requests.first).body == bytes("hello world"))
    }

    @Test func trailerFieldsAreReadAndTheNextRequestFollows() throws {
        let outcome = decodeEveryWay(chunked("3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other: y\r\n\r\n") + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(outcome.error == nil)
        #expect(outcome.requests.map(\.head.path) == ["/c", "/next"])
        #expect(try #require(outcome.requests.first).body == bytes("abc"))
    }

    @Test func malformedTrailerFieldIsRefused() {
        #expect(decodeEveryWay(chunked("3\r\nabc\r\n0\r\nnot a field\r\n\r\n")).error == .malformedHeader)
    }

    @Test func chunkSizeIsHexInEitherCase() throws {
        let data = String(repeating: "x", count: 0x1A)
        let upper = decodeEveryWay(chunked("1A\r\n\(data)\r\n0\r\n\r\n"))
        let lower = decodeEveryWay(chunked("1a\r\n\(data)\r\n0\r\n\r\n"))
        let padded = decodeEveryWay(chunked("001a\r\n\(data)\r\n0\r\n\r\n"))
        #expect(try #require(upper.requests.first).body.count == 26)
        #expect(try #require(lower.requests.first).body.count == 26)
        #expect(try #require(padded.requests.first).body.count == 26)
    }

    @Test(arguments: ["zz", "", ";ext", "-1", "0x5", "5 x", "5\u{1}"])
    func invalidChunkSizeIsRefused(_ size: String) {
        #expect(decodeEveryWay(chunked("\(size)\r\nhello\r\n0\r\n\r\n")).error == .invalidChunk)
    }

    @Test func chunkSizeOfSeventeenHexDigitsIsRefused() {
        #expect(decodeEveryWay(chunked("10000000000000000\r\nx\r\n0\r\n\r\n")).error == .invalidChunk)
        // 16 digits would overflow Int before any limit applied; refused as well.
        #expect(decodeEveryWay(chunked("FFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n")).error == .invalidChunk)
    }

    @Test func chunkDataNotFollowedByCRLFIsRefused() {
        #expect(decodeEveryWay(chunked("3\r\nabcX\r\n0\r\n\r\n")).error == .invalidChunk)
        #expect(decodeEveryWay(chunked("3\r\nabc\n0\r\n\r\n")).error == .invalidChunk)
    }

    /// Chunk-size lines around a 16-byte limit decode the same whatever the split.
    @Test(arguments: 12...18)
    func chunkLineNearLimitDecodesTheSameWhateverTheSplit(_ length: Int) {
        var limits = HTTPLimits()
        limits.maxChunkLineLength = 16
        let line = "3;" + String(repeating: "e", count: length - 2)
        let outcome = decodeEveryWay(chunked(line + "\r\nabc\r\n0\r\n\r\n"), limits: limits)
        #expect(outcome.error == (length <= 16 ? nil : .invalidChunk))
    }

    @Test func overlongChunkLineIsRefused() {
        let outcome = decode([bytes(chunked("5;" + String(repeating: "e", count: 5000)))])
        #expect(outcome.error == .invalidChunk)
    }

    // MARK: Persistence

    @Test func http11IsKeepAliveUnlessClose() throws {
        #expect(try #require(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\n\r\n").requests.first).keepAlive)
        #expect(try !#require(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").requests.first).keepAlive)
        #expect(try !#require(decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n").requests.first).keepAlive)
    }

    @Test func http10IsCloseUnlessKeepAlive() throws {
        #expect(try !#require(decodeEveryWay("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n").requests.first).keepAlive)
        #expect(try #require(decodeEveryWay("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").requests.first).keepAlive)
        #expect(try #require(decodeEveryWay("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").requests.first).keepAlive)
        #expect(try !#require(decodeEveryWay("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").requests.first).keepAlive)
    }

    // MARK: Expect: 100-continue

    @Test func expectContinueIsReportedBeforeTheBody() throws {
        var decoder = HTTPRequestDecoder(limits: HTTPLimits())
        var buffer = InboundBuffer()
        buffer.append(contentsOf: bytes("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"))
        let first = try #require(try decoder.next(&buffer))
        guard case .expectsContinue = first else {
            Issue.record("expected expectsContinue, got \(first)")
            return
        }
        #expect(try decoder.next(&buffer) == nil)
        buffer.append(contentsOf: bytes("hello"))
        let second = try #require(try decoder.next(&buffer))
        guard case .request(let request) = second else {
            Issue.record("expected a request, got \(second)")
            return
        }
        #expect(request.body == bytes("hello"))
        #expect(request.expectsContinue)
    }

    @Test func expectContinueGivesTheSameEventsWhateverTheSplit() {
        let outcome = decodeEveryWay("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi")
        #expect(outcome.events.count == 2)
        #expect(outcome.events.first == .expectsContinue)
        #expect(outcome.requests.first?.body == bytes("hi"))
    }

    @Test func expectContinueWithoutBodyIsJustARequest() throws {
        let outcome = decodeEveryWay("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
        #expect(outcome.events.count == 1)
        #expect(try !#require(outcome.requests.first).expectsContinue)
    }
}

extension HTTPRequestDecoder.Event: CustomStringConvertible {
    public var description: String {
        switch self {
        case .expectsContinue: "expectsContinue"
        case .request(let request): "request(\(request.head.method.rawValue) \(request.head.path ?? ""))"
        }
    }
}
