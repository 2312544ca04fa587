import HTTPTypes
import Testing
import TransportTesting
@testable import ShopfloorTransport

private typealias Context = HTTPResponseEncoder.Context

/// Encodes `response` and reads the bytes back as a client would.
private func encodeAndParse(
    _ response: HTTPServerResponse, body: [UInt8]?, context: Context, closing: Bool = false
) throws -> (parsed: TestHTTPResponse, wire: [UInt8]) {
    let wire = HTTPResponseEncoder.encode(response, body: body, context: context, closing: closing)
    var buffer = wire
    let parsed = try #require(try TestHTTPResponse.decode(from: &buffer, isHead: context.isHead))
    if body != nil {
        #expect(buffer.isEmpty, "bytes after the response: \(buffer.count)")
    }
    return (parsed, wire)
}

private func text(_ count: Int) -> [UInt8] {
    Array(String(repeating: "All work and no play makes a compressible body. ", count: count / 48 + 1).utf8.prefix(count))
}

/// Bytes that do not compress: a fixed xorshift sequence.
private func noise(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

@Suite struct HTTPResponseEncoderTests {
    // MARK: Accept-Encoding

    @Test(arguments: [
        ("gzip", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("gzip;q=0", false),
        ("gzip; q=0", false),
        ("gzip;q=0.000", false),
        ("gzip;q=0.001", true),
        ("*", true),
        ("*;q=0", false),
        ("br, gzip;q=0.5", true),
        ("br;q=1.0, gzip;q=0.5, *;q=0", true),
        ("gzip;q=0, *", false),
        ("identity", false),
        ("br, deflate", false),
        ("", false),
    ])
    func acceptEncodingAdmitsGzip(_ value: String, _ expected: Bool) {
        #expect(Context.allowsGzip(value) == expected)
    }

    @Test func contextReadsAcceptEncodingMethodAndPersistence() {
        let request = HTTPServerRequest(
            head: HTTPRequest(method: .head, scheme: nil, authority: "x", path: "/", headerFields: [.acceptEncoding: "br, gzip;q=0.5"]),
            keepAlive: false)
        let context = Context(request: request)
        #expect(context.isHead)
        #expect(!context.keepAlive)
        #expect(context.acceptsGzip)
        let plain = Context(request: HTTPServerRequest(head: HTTPRequest(method: .get, scheme: nil, authority: "x", path: "/")))
        #expect(!plain.acceptsGzip)
        #expect(!plain.isHead)
    }

    // MARK: Compression

    @Test func compressibleBodyOverThresholdIsGzipped() throws {
        let body = text(4096)
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"])
        let (parsed, _) = try encodeAndParse(response, body: body, context: Context(keepAlive: true, acceptsGzip: true))
        #expect(parsed.header("Content-Encoding") == "gzip")
        #expect(parsed.header("Vary") == "Accept-Encoding")
        #expect(Array(parsed.body.prefix(3)) == [0x1F, 0x8B, 0x08])
        #expect(parsed.body.count < body.count)
        #expect(parsed.framing == .contentLength(parsed.body.count))
        #expect(try GzipDecoder.decode(parsed.body) == body)
    }

    @Test(arguments: ["text/plain; charset=utf-8", "application/json", "application/problem+json", "application/yaml", "image/svg+xml", "text/javascript"])
    func compressibleTypesAreGzipped(_ type: String) throws {
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: type])
        let (parsed, _) = try encodeAndParse(response, body: text(2048), context: Context(keepAlive: true, acceptsGzip: true))
        #expect(parsed.header("Content-Encoding") == "gzip")
    }

    @Test(arguments: ["image/png", "application/octet-stream", "video/mp4"])
    func incompressibleTypesAreSentAsTheyAre(_ type: String) throws {
        let body = text(4096)
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: type])
        let (parsed, _) = try encodeAndParse(response, body: body, context: Context(keepAlive: true, acceptsGzip: true))
        #expect(parsed.header("Content-Encoding") == nil)
        #expect(parsed.header("Vary") == nil)
        #expect(parsed.body == body)
    }

    @Test func bodyAtThresholdIsSentAsItIsAndOneByteMoreIsGzipped() throws {
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain"])
        let context = Context(keepAlive: true, acceptsGzip: true)
        let atThreshold = try encodeAndParse(response, body: text(1024), context: context).parsed
        #expect(atThreshold.header("Content-Encoding") == nil)
        #expect(atThreshold.body == text(1024))
        let over = try encodeAndParse(response, body: text(1025), context: context).parsed
        #expect(over.header("Content-Encoding") == "gzip")
        #expect(try GzipDecoder.decode(over.body) == text(1025))
    }

    @Test func noGzipWhenTheClientDoesNotAcceptIt() throws {
        let body = text(4096)
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"])
        let (parsed, _) = try encodeAndParse(response, body: body, context: Context(keepAlive: true, acceptsGzip: false))
        #expect(parsed.header("Content-Encoding") == nil)
        #expect(parsed.body == body)
    }

    @Test func noGzipWithoutContentTypeOrWhenAlreadyEncoded() throws {
        let body = text(4096)
        let context = Context(keepAlive: true, acceptsGzip: true)
        let untyped = try encodeAndParse(HTTPServerResponse(status: .ok), body: body, context: context).parsed
        #expect(untyped.header("Content-Encoding") == nil)
        #expect(untyped.body == body)
        let encoded = HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain", .contentEncoding: "br"])
        let already = try encodeAndParse(encoded, body: body, context: context).parsed
        #expect(already.headers("Content-Encoding") == ["br"])
        #expect(already.body == body)
    }

    @Test func bodyThatDoesNotShrinkIsSentAsItIs() throws {
        let body = noise(4096)
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain"])
        let (parsed, _) = try encodeAndParse(response, body: body, context: Context(keepAlive: true, acceptsGzip: true))
        #expect(parsed.header("Content-Encoding") == nil)
        #expect(parsed.body == body)
    }

    // MARK: Framing

    @Test func statusLineAndServerFields() throws {
        let (parsed, wire) = try encodeAndParse(
            HTTPServerResponse(status: .notFound, headerFields: [.contentType: "text/plain"]), body: Array("gone".utf8),
            context: Context(keepAlive: true))
        #expect(wire.starts(with: Array("HTTP/1.1 404 Not Found\r\n".utf8)))
        #expect(parsed.status == 404)
        #expect(parsed.header("Server") == "shopfloor")
        #expect(parsed.header("Date")?.hasSuffix(" GMT") == true)
        #expect(parsed.header("Content-Length") == "4")
        #expect(parsed.header("Content-Type") == "text/plain")
        #expect(parsed.bodyText == "gone")
        #expect(parsed.header("Connection") == nil)
    }

    @Test func headResponseKeepsContentLengthButHasNoBody() throws {
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/octet-stream"])
        let wire = HTTPResponseEncoder.encode(response, body: Array("twelve bytes".utf8), context: Context(isHead: true, keepAlive: true), closing: false)
        #expect(wire.suffix(4) == [13, 10, 13, 10])
        var buffer = wire
        let parsed = try #require(try TestHTTPResponse.decode(from: &buffer, isHead: true))
        #expect(parsed.header("Content-Length") == "12")
        #expect(buffer.isEmpty)
    }

    @Test func headResponseAdvertisesTheLengthGetWouldSend() throws {
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"])
        let body = text(4096)
        let get = try encodeAndParse(response, body: body, context: Context(isHead: false, keepAlive: true, acceptsGzip: true)).parsed
        let head = try encodeAndParse(response, body: body, context: Context(isHead: true, keepAlive: true, acceptsGzip: true)).parsed
        #expect(head.header("Content-Length") == get.header("Content-Length"))
        #expect(head.header("Content-Encoding") == get.header("Content-Encoding"))
    }

    @Test(arguments: [HTTPResponse.Status.noContent, .notModified, .continue, .switchingProtocols])
    func bodilessStatusHasNoLengthAndNoBody(_ status: HTTPResponse.Status) throws {
        let wire = HTTPResponseEncoder.encode(
            HTTPServerResponse(status: status), body: Array("ignored".utf8), context: Context(keepAlive: true, acceptsGzip: true), closing: false)
        var buffer = wire
        let parsed = try #require(try TestHTTPResponse.decode(from: &buffer))
        #expect(parsed.status == status.code)
        #expect(parsed.header("Content-Length") == nil)
        #expect(parsed.header("Transfer-Encoding") == nil)
        #expect(buffer.isEmpty, "a bodiless status carried \(buffer.count) body bytes")
    }

    @Test func emptyBodyHasContentLengthZero() throws {
        let (parsed, _) = try encodeAndParse(HTTPServerResponse(status: .ok), body: [], context: Context(keepAlive: true))
        #expect(parsed.header("Content-Length") == "0")
        #expect(parsed.body.isEmpty)
    }

    @Test func closingResponseSaysConnectionClose() throws {
        let closing = try encodeAndParse(HTTPServerResponse(status: .ok), body: [], context: Context(keepAlive: false), closing: true).parsed
        #expect(closing.headers("Connection") == ["close"])
        #expect(closing.closesConnection)
        let open = try encodeAndParse(HTTPServerResponse(status: .ok), body: [], context: Context(keepAlive: true), closing: false).parsed
        #expect(open.headers("Connection").isEmpty)
    }

    @Test func persistentHTTP10ResponseConfirmsKeepAlive() throws {
        var context = Context(keepAlive: true)
        context.isHTTP10 = true
        let kept = try encodeAndParse(HTTPServerResponse(status: .ok), body: [], context: context, closing: false).parsed
        #expect(kept.headers("Connection") == ["keep-alive"])
        let closing = try encodeAndParse(HTTPServerResponse(status: .ok), body: [], context: context, closing: true).parsed
        #expect(closing.headers("Connection") == ["close"])
    }

    @Test func streamedResponseIsChunked() throws {
        let response = HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain"])
        var wire = HTTPResponseEncoder.encode(response, body: nil, context: Context(keepAlive: true, acceptsGzip: true), closing: false)
        for piece in ["first ", "second ", String(repeating: "z", count: 300)] {
            wire += HTTPResponseEncoder.chunk(Array(piece.utf8))
        }
        wire += HTTPResponseEncoder.chunk([])
        var buffer = wire
        let parsed = try #require(try TestHTTPResponse.decode(from: &buffer))
        #expect(parsed.header("Transfer-Encoding") == "chunked")
        #expect(parsed.header("Content-Length") == nil)
        #expect(parsed.header("Content-Encoding") == nil)
        #expect(parsed.framing == .chunked(sizes: [6, 7, 300]))
        #expect(parsed.bodyText == "first second " + String(repeating: "z", count: 300))
        #expect(buffer.isEmpty)
    }

    @Test func chunkFraming() {
        #expect(HTTPResponseEncoder.chunk(Array("hello".utf8)) == Array("5\r\nhello\r\n".utf8))
        let big = [UInt8](repeating: 0x61, count: 300)
        #expect(HTTPResponseEncoder.chunk(big) == Array("12c\r\n".utf8) + big + [13, 10])
        #expect(HTTPResponseEncoder.chunk([]) == Array("0\r\n\r\n".utf8))
    }

    @Test func dateIsIMFFixdate() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_763_900_000) == "Sun, 23 Nov 2025 12:13:20 GMT")
    }
}
