#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Foundation
import HTTPTypes
import Logging
import Synchronization
import Testing
import TransportTesting
@testable import ShopfloorTransport

// MARK: A raw WebSocket client

/// A WebSocket client on one blocking TCP socket that sends exactly the bytes a test builds (masked or
/// not, fragmented, pipelined) and reads the server's frames one by one.
///
/// Like ``TestHTTPClient``, every blocking call runs on its own thread so the cooperative pool stays
/// free, and reads give up after the receive timeout.
private final class WebSocketTestClient: Sendable {
    struct Frame: Equatable, CustomStringConvertible {
        var fin: Bool
        var rsv1: Bool
        var opcode: UInt8
        var masked: Bool
        var payload: [UInt8]

        /// The close code of a close frame with one.
        var closeCode: UInt16? {
            opcode == 0x8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
        }

        var description: String {
            let text = opcode == 0x1 || opcode == 0x8 ? " \"\(String(decoding: payload.prefix(60), as: UTF8.self))\"" : ""
            return "opcode \(opcode) fin=\(fin) rsv1=\(rsv1) masked=\(masked) \(payload.count) bytes\(text)"
        }
    }

    enum Event: Equatable, CustomStringConvertible {
        case frame(Frame)
        case endOfStream

        var description: String {
            switch self {
            case .frame(let frame): "\(frame)"
            case .endOfStream: "end of stream"
            }
        }
    }

    enum Failure: Error, Equatable {
        case timedOut
        case endOfStreamMidMessage(received: Int)
        case malformed(String)
        case system(call: String, errno: Int32)
    }

    private struct State: Sendable {
        var received: [UInt8] = []
        var start = 0
        var sawEndOfStream = false
    }

    private let fd: Int32
    private let state = Mutex(State())
    private let closed = Atomic<Bool>(false)

    private init(fd: Int32) { self.fd = fd }
    deinit { close() }

    /// Connects to 127.0.0.1:`port`; `receiveBuffer` shrinks the kernel's receive buffer (for a peer that
    /// is slow to read).
    static func connect(port: Int, receiveBuffer: Int32? = nil, timeout: Duration = .seconds(3)) async throws(Failure) -> WebSocketTestClient {
        let fd = try await onThread { () throws(Failure) -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
            let (seconds, attoseconds) = timeout.components
            var interval = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if var size = receiveBuffer {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
            let status = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard status == 0 else {
                let error = errno
                Glibc.close(fd)
                throw .system(call: "connect", errno: error)
            }
            return fd
        }
        return WebSocketTestClient(fd: fd)
    }

    func send(_ bytes: [UInt8]) async throws(Failure) {
        let fd = fd
        try await Self.onThread { () throws(Failure) in
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw errno == EAGAIN ? .timedOut : .system(call: "send", errno: errno)
                }
                sent += count
            }
        }
    }

    /// Sends a masked client frame.
    func send(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0) async throws(Failure) {
        try await send(makeClientFrame(opcode: opcode, payload: payload, fin: fin, rsv: rsv, mask: [0x6B, 0x01, 0xF3, 0x9C]))
    }

    /// Reads one HTTP response head (and body) off the stream, leaving any bytes after it.
    func readResponse() async throws(Failure) -> TestHTTPResponse {
        let fd = fd
        return try await Self.onThread { [self] () throws(Failure) -> TestHTTPResponse in
            try state.withLock { state throws(Failure) -> TestHTTPResponse in
                while true {
                    state.received.removeFirst(state.start)
                    state.start = 0
                    do throws(TestHTTPResponse.Malformed) {
                        if let response = try TestHTTPResponse.decode(from: &state.received, atEndOfStream: state.sawEndOfStream) {
                            return response
                        }
                    } catch {
                        throw .malformed(error.description)
                    }
                    if state.sawEndOfStream { throw .endOfStreamMidMessage(received: state.received.count) }
                    try Self.receive(fd: fd, into: &state)
                }
            }
        }
    }

    /// Sends an upgrade request for `path` (with the other bytes in `trailing` in the same write) and
    /// reads the answer.
    func handshake(path: String = "/echo", extensions: String? = nil, trailing: [UInt8] = []) async throws(Failure) -> TestHTTPResponse {
        var headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                       ("Sec-WebSocket-Version", "13")]
        if let extensions { headers.append(("Sec-WebSocket-Extensions", extensions)) }
        try await send(TestHTTPClient.makeRequest("GET", path, headers: headers) + trailing)
        return try await readResponse()
    }

    /// The next frame, or the end of the stream if it ends between frames.
    func next() async throws(Failure) -> Event {
        try await collect(until: { _ in true }).last!
    }

    /// Reads events until one satisfies `stop` or the stream ends; returns them all, the last included.
    func collect(until stop: @escaping @Sendable (Event) -> Bool) async throws(Failure) -> [Event] {
        let fd = fd
        return try await Self.onThread { [self] () throws(Failure) -> [Event] in
            try state.withLock { state throws(Failure) -> [Event] in
                var events: [Event] = []
                while true {
                    let event = try Self.nextEvent(fd: fd, state: &state)
                    events.append(event)
                    if event == .endOfStream || stop(event) { return events }
                }
            }
        }
    }

    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(fd)
    }

    // MARK: Blocking parts

    private static func nextEvent(fd: Int32, state: inout State) throws(Failure) -> Event {
        while true {
            let available = state.received.count - state.start
            if available == 0 && state.sawEndOfStream { return .endOfStream }
            if available >= 2 {
                let base = state.start
                let first = state.received[base]
                let second = state.received[base + 1]
                var headerLength = 2
                var length = Int(second & 0x7F)
                if length == 126, available >= 4 {
                    length = Int(state.received[base + 2]) << 8 | Int(state.received[base + 3])
                    headerLength = 4
                } else if length == 127, available >= 10 {
                    length = (2..<10).reduce(0) { $0 << 8 | Int(state.received[base + $1]) }
                    headerLength = 10
                } else if length >= 126 {
                    headerLength = .max
                }
                let masked = second & 0x80 != 0
                if masked { headerLength &+= 4 }
                if headerLength != .max, available >= headerLength + length {
                    var payload = Array(state.received[(base + headerLength)..<(base + headerLength + length)])
                    if masked {
                        let key = state.received[(base + headerLength - 4)..<(base + headerLength)].map { $0 }
                        for index in payload.indices { payload[index] ^= key[index & 3] }
                    }
                    state.start += headerLength + length
                    if state.start > 1 << 20 && state.start * 2 > state.received.count {
                        state.received.removeFirst(state.start)
                        state.start = 0
                    }
                    return .frame(Frame(fin: first & 0x80 != 0, rsv1: first & 0x40 != 0, opcode: first & 0x0F, masked: masked, payload: payload))
                }
            }
            if state.sawEndOfStream { throw .endOfStreamMidMessage(received: available) }
            try receive(fd: fd, into: &state)
        }
    }

    private static func receive(fd: Int32, into state: inout State) throws(Failure) {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                state.received.append(contentsOf: chunk[..<count])
                return
            }
            if count == 0 {
                state.sawEndOfStream = true
                return
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: throw .timedOut
            // A reset after everything was read is an end of stream, for these tests.
            case ECONNRESET:
                state.sawEndOfStream = true
                return
            case let error: throw .system(call: "recv", errno: error)
            }
        }
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
            let thread = Thread { continuation.resume(returning: Result { () throws(Failure) -> T in try body() }) }
            thread.name = "WebSocketTestClient"
            thread.start()
        }
        return try result.get()
    }
}

// MARK: The server under test

private final class EchoHandler: WebSocketHandler {
    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage) { socket.send(message) }
    func webSocketDidClose(_ socket: WebSocket) {}
}

/// Echoes from a task off the event loop, through ``WebSocket/sendWhenReady(_:)``.
private final class LaterEchoHandler: WebSocketHandler {
    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage) {
        Task { try await socket.sendWhenReady(OutboundWebSocketMessage(message)) }
    }

    func webSocketDidClose(_ socket: WebSocket) {}
}

/// On any message, sends `FloodHandler.count` binary messages at once, then reports how it went.
private final class FloodHandler: WebSocketHandler {
    static let count = 4096
    static let size = 16 * 1024
    let done: AsyncStream<Void>.Continuation

    init(done: AsyncStream<Void>.Continuation) { self.done = done }

    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage) {
        let message = OutboundWebSocketMessage(.binary([UInt8](repeating: 0x5A, count: Self.size)))
        for _ in 0..<Self.count { socket.send(message) }
        done.yield()
    }

    func webSocketDidClose(_ socket: WebSocket) {}
}

/// `/echo…` routes upgrade to an echo handler with the options named in their path, `/flood` to a
/// ``FloodHandler`` with a short queue; any other path is plain HTTP.
private struct WebSocketTestResponder: HTTPResponder {
    let flooded: AsyncStream<Void>
    let floodedContinuation: AsyncStream<Void>.Continuation

    init() {
        (flooded, floodedContinuation) = AsyncStream<Void>.makeStream()
    }

    func respond(to request: HTTPServerRequest) async -> HTTPServerResponse {
        let options: WebSocketOptions
        switch request.path {
        case "/echo": options = WebSocketOptions()
        case "/echo/small": options = WebSocketOptions(maxMessageSize: 1024)
        // The client has one interval (and up to a tick more) to answer a ping: 200 ms was too little
        // for a test client on a machine busy with the rest of the suite, which was dropped as silent.
        case "/echo/ping": options = WebSocketOptions(pingInterval: .milliseconds(750))
        case "/echo/context": options = WebSocketOptions(requireClientNoContextTakeover: false)
        case "/echo/later":
            do {
                return try WebSocketHandshake.upgrade(request, options: WebSocketOptions()) { _ in LaterEchoHandler() }
            } catch {
                return refusal(error)
            }
        case "/flood":
            let done = floodedContinuation
            do {
                return try WebSocketHandshake.upgrade(request, options: WebSocketOptions(compression: false, maxQueuedMessages: 8)) { _ in
                    FloodHandler(done: done)
                }
            } catch {
                return refusal(error)
            }
        default:
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain"], body: .bytes(Array("plain \(request.path)".utf8)))
        }
        do {
            return try WebSocketHandshake.upgrade(request, options: options) { _ in EchoHandler() }
        } catch {
            return refusal(error)
        }
    }

    private func refusal(_ error: WebSocketHandshakeError) -> HTTPServerResponse {
        switch error {
        case .notAnUpgrade: HTTPServerResponse(status: .upgradeRequired, headerFields: [.upgrade: "websocket"])
        case .unsupportedVersion: HTTPServerResponse(status: .upgradeRequired, headerFields: [.secWebSocketVersion: "13"])
        case .invalidKey: HTTPServerResponse(status: .badRequest)
        }
    }

    func errorResponse(for error: HTTPTransportError) -> HTTPServerResponse {
        HTTPServerResponse(status: .badRequest, headerFields: [.contentType: "text/plain"], body: .bytes(Array("\(error)".utf8)))
    }
}

private struct RunningServer {
    let server: HTTPServer
    let responder: WebSocketTestResponder
    var port: Int { server.localAddress.port }

    func connect(receiveBuffer: Int32? = nil) async throws -> WebSocketTestClient {
        try await WebSocketTestClient.connect(port: port, receiveBuffer: receiveBuffer)
    }

    /// A client that has completed the opening handshake on `path`.
    func connectWebSocket(path: String = "/echo") async throws -> WebSocketTestClient {
        let client = try await connect()
        let response = try await client.handshake(path: path)
        try #require(response.status == 101)
        return client
    }
}

private func withServer(_ body: (RunningServer) async throws -> Void) async throws {
    let configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, threads: 1)
    let responder = WebSocketTestResponder()
    let server = try HTTPServer(configuration: configuration, responder: responder, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    server.start()
    defer { server.stop() }
    try await body(RunningServer(server: server, responder: responder))
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func serverFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false) -> WebSocketTestClient.Event {
    .frame(.init(fin: fin, rsv1: rsv1, opcode: opcode, masked: false, payload: payload))
}

private func closeFrame(_ code: UInt16) -> @Sendable (WebSocketTestClient.Event) -> Bool {
    { event in
        if case .frame(let frame) = event { frame.closeCode == code && !frame.masked && frame.fin } else { false }
    }
}

@Suite(.timeLimit(.minutes(1))) struct WebSocketServerTests {
    @Test func handshakeIsAnswered101WithTheAcceptValue() async throws {
        try await withServer { running in
            let client = try await running.connect()
            defer { client.close() }
            let response = try await client.handshake()
            #expect(response.status == 101)
            #expect(response.header("Upgrade") == "websocket")
            #expect(response.header("Connection") == "Upgrade")
            #expect(response.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            #expect(response.header("Sec-WebSocket-Extensions") == nil)
            #expect(response.header("Content-Length") == nil)
            #expect(response.header("Transfer-Encoding") == nil)
            #expect(response.body.isEmpty)
        }
    }

    @Test func textAndBinaryMessagesAreEchoed() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x1, bytes("hello ✓ 😀"))
            #expect(try await client.next() == serverFrame(0x1, bytes("hello ✓ 😀")))
            let binary = randomBytes(300, seed: 300)
            try await client.send(opcode: 0x2, binary)
            #expect(try await client.next() == serverFrame(0x2, binary))
            try await client.send(opcode: 0x1, [])
            #expect(try await client.next() == serverFrame(0x1, []))
            // 64 KiB, the default limit: a 64-bit length each way.
            let large = randomBytes(64 * 1024, seed: 64)
            try await client.send(opcode: 0x2, large)
            #expect(try await client.next() == serverFrame(0x2, large))
        }
    }

    @Test func fragmentedMessageIsReassembledAndAPingBetweenFragmentsIsAnsweredFirst() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(
                makeClientFrame(opcode: 0x1, payload: bytes("Hel"), fin: false, mask: [1, 2, 3, 4])
                    + makeClientFrame(opcode: 0x9, payload: bytes("ping!"), mask: [5, 6, 7, 8])
                    + makeClientFrame(opcode: 0x0, payload: bytes("lo, wörld"), fin: true, mask: [9, 10, 11, 12]))
            #expect(try await client.next() == serverFrame(0xA, bytes("ping!")))
            #expect(try await client.next() == serverFrame(0x1, bytes("Hello, wörld")))

            // Fragments sent in separate writes, an unsolicited pong (ignored) in between, and a
            // multi-byte character cut across two fragments.
            let euro = bytes("€")
            try await client.send(opcode: 0x1, bytes("price: ") + euro[..<1], fin: false)
            try await client.send(opcode: 0xA, bytes("unsolicited"))
            try await client.send(opcode: 0x0, Array(euro[1...]) + bytes("5"), fin: false)
            try await client.send(opcode: 0x9, [])
            #expect(try await client.next() == serverFrame(0xA, []))
            try await client.send(opcode: 0x0, [], fin: true)
            #expect(try await client.next() == serverFrame(0x1, bytes("price: €5")))

            let parts = [randomBytes(100, seed: 1), randomBytes(200, seed: 2), randomBytes(1, seed: 3)]
            try await client.send(opcode: 0x2, parts[0], fin: false)
            try await client.send(opcode: 0x0, parts[1], fin: false)
            try await client.send(opcode: 0x0, parts[2], fin: true)
            #expect(try await client.next() == serverFrame(0x2, parts.flatMap { $0 }))
        }
    }

    @Test func closeIsAnsweredWithTheSameCodeAndTheConnectionEnds() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x8, [0x03, 0xE8] + bytes("bye"))
            #expect(try await client.next() == serverFrame(0x8, [0x03, 0xE8]))
            #expect(try await client.next() == .endOfStream)
            client.close()
            #expect(await running.server.waitUntilIdle(timeout: .seconds(3)))
        }
    }

    @Test func closeWithoutACodeIsAnsweredWithoutOne() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x8, [])
            #expect(try await client.next() == serverFrame(0x8, []))
            #expect(try await client.next() == .endOfStream)
        }
    }

    @Test(arguments: [[0x03], [0x03, 0xE7], [0x03, 0xED], [0x03, 0xEE], [0x0B, 0xB7], [0x13, 0x88]] as [[UInt8]])
    func closeWithAnInvalidCodeIsAProtocolError(_ payload: [UInt8]) async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x8, payload)
            let events = try await client.collect(until: { _ in false })
            #expect(events.count == 2)
            #expect(events.first.map(closeFrame(1002)) == true, "\(events)")
            #expect(events.last == .endOfStream)
        }
    }

    @Test func closeReasonThatIsNotUTF8IsClosedWith1007() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x8, [0x03, 0xE8, 0xC0, 0xAF])
            let events = try await client.collect(until: { _ in false })
            #expect(events.first.map(closeFrame(1007)) == true, "\(events)")
            #expect(events.last == .endOfStream)
        }
    }

    @Test func invalidUTF8TextIsClosedWith1007() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x1, bytes("ok") + [0xED, 0xA0, 0x80])
            let events = try await client.collect(until: { _ in false })
            #expect(events.count == 2)
            #expect(events.first.map(closeFrame(1007)) == true, "\(events)")
            #expect(events.last == .endOfStream)
        }
    }

    /// RFC 6455 §8.1: invalid text fails the connection as soon as it is seen, not when the message ends.
    @Test func invalidUTF8InAFirstFragmentIsClosedBeforeTheMessageEnds() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x1, bytes("ok") + [0xC0, 0x80], fin: false)
            let events = try await client.collect(until: { _ in false })
            #expect(events.first.map(closeFrame(1007)) == true, "\(events)")
            #expect(events.last == .endOfStream)
        }
    }

    @Test func textEndingInsideACharacterIsClosedWith1007() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(opcode: 0x1, bytes("cut ") + [0xE2, 0x82])
            let events = try await client.collect(until: { _ in false })
            #expect(events.first.map(closeFrame(1007)) == true, "\(events)")
        }
    }

    @Test func unmaskedFrameIsClosedWith1002() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            try await client.send(makeClientFrame(opcode: 0x1, payload: bytes("naked"), mask: nil))
            let events = try await client.collect(until: { _ in false })
            #expect(events.count == 2)
            #expect(events.first.map(closeFrame(1002)) == true, "\(events)")
            #expect(events.last == .endOfStream)
        }
    }

    @Test func continuationWithoutAMessageAndANewMessageInsideOneAreClosedWith1002() async throws {
        try await withServer { running in
            let stray = try await running.connectWebSocket()
            defer { stray.close() }
            try await stray.send(opcode: 0x0, bytes("orphan"))
            #expect(try await stray.collect(until: { _ in false }).first.map(closeFrame(1002)) == true)

            let interleaved = try await running.connectWebSocket()
            defer { interleaved.close() }
            try await interleaved.send(opcode: 0x1, bytes("one"), fin: false)
            try await interleaved.send(opcode: 0x1, bytes("two"))
            #expect(try await interleaved.collect(until: { _ in false }).first.map(closeFrame(1002)) == true)
        }
    }

    @Test func frameOverTheLimitIsClosedWith1009FromItsHeader() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket(path: "/echo/small")
            defer { client.close() }
            try await client.send(opcode: 0x2, randomBytes(1024, seed: 9))
            #expect(try await client.next() == serverFrame(0x2, randomBytes(1024, seed: 9)))
            // The header of a 2000-byte frame, and nothing more.
            try await client.send(Array(makeClientFrame(opcode: 0x2, payload: randomBytes(2000, seed: 2))[..<4]))
            let events = try await client.collect(until: { _ in false })
            #expect(events.count == 2)
            #expect(events.first.map(closeFrame(1009)) == true, "\(events)")
            #expect(events.last == .endOfStream)
        }
    }

    @Test func fragmentedMessageOverTheLimitIsClosedWith1009() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket(path: "/echo/small")
            defer { client.close() }
            try await client.send(opcode: 0x1, Array(repeating: 0x61, count: 600), fin: false)
            try await client.send(opcode: 0x0, Array(repeating: 0x62, count: 600), fin: true)
            let events = try await client.collect(until: { _ in false })
            #expect(events.count == 2)
            #expect(events.first.map(closeFrame(1009)) == true, "\(events)")
        }
    }

    @Test func compressedMessagesRoundTripWhenNegotiated() async throws {
        try await withServer { running in
            let client = try await running.connect()
            defer { client.close() }
            let response = try await client.handshake(extensions: "permessage-deflate; client_max_window_bits")
            #expect(response.status == 101)
            #expect(response.header("Sec-WebSocket-Extensions") == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")

            let text = bytes(String(repeating: "stock level changed; ", count: 200))
            let deflater = try Deflater(format: .raw(windowBits: 15))
            let compressed = try deflater.compress(text, flush: Z_SYNC_FLUSH).dropLast(4)
            try await client.send(opcode: 0x1, Array(compressed), rsv: 0x40)
            guard case .frame(let echo) = try await client.next() else { Issue.record("no echo"); return }
            #expect(echo.opcode == 0x1 && echo.rsv1 && echo.fin && !echo.masked)
            #expect(echo.payload.count < text.count / 4)
            var inflated: [UInt8] = []
            try Inflater().inflate(echo.payload + [0x00, 0x00, 0xFF, 0xFF], into: &inflated, limit: 1 << 20)
            #expect(inflated == text)

            // An uncompressed message on the same connection is fine too.
            try await client.send(opcode: 0x2, [1, 2, 3])
            guard case .frame(let second) = try await client.next() else { Issue.record("no echo"); return }
            #expect(second.rsv1)
            var plain: [UInt8] = []
            try Inflater().inflate(second.payload + [0x00, 0x00, 0xFF, 0xFF], into: &plain, limit: 100)
            #expect(plain == [1, 2, 3])
        }
    }

    /// RFC 7692 §7.2.3.2: with context takeover the client's second "Hello" refers back to the first.
    @Test func clientContextIsKeptWhenTheServerDoesNotRequireItsReset() async throws {
        try await withServer { running in
            let client = try await running.connect()
            defer { client.close() }
            let response = try await client.handshake(path: "/echo/context", extensions: "permessage-deflate")
            #expect(response.header("Sec-WebSocket-Extensions") == "permessage-deflate; server_no_context_takeover")
            try await client.send(opcode: 0x1, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], rsv: 0x40)
            try await client.send(opcode: 0x1, [0xF2, 0x00, 0x11, 0x00, 0x00], rsv: 0x40)
            for _ in 0..<2 {
                guard case .frame(let echo) = try await client.next() else { Issue.record("no echo"); return }
                #expect(echo.rsv1)
                var inflated: [UInt8] = []
                try Inflater().inflate(echo.payload + [0x00, 0x00, 0xFF, 0xFF], into: &inflated, limit: 100)
                #expect(inflated == bytes("Hello"))
            }
        }
    }

    /// A small compressed message that would inflate past the limit is refused, not inflated in full.
    @Test func compressedMessageInflatingPastTheLimitIsClosedWith1009() async throws {
        try await withServer { running in
            let client = try await running.connect()
            defer { client.close() }
            #expect(try await client.handshake(path: "/echo/small", extensions: "permessage-deflate").status == 101)
            let bomb = try Deflater(format: .raw(windowBits: 15)).compress([UInt8](repeating: 0, count: 1 << 19), flush: Z_SYNC_FLUSH).dropLast(4)
            #expect(bomb.count < 1024)
            try await client.send(opcode: 0x2, Array(bomb), rsv: 0x40)
            let events = try await client.collect(until: { _ in false })
            #expect(events.first.map(closeFrame(1009)) == true, "\(events)")
            #expect(events.last == .endOfStream)
        }
    }

    @Test func corruptCompressedMessageIsClosedWith1007() async throws {
        try await withServer { running in
            let client = try await running.connect()
            defer { client.close() }
            #expect(try await client.handshake(extensions: "permessage-deflate").status == 101)
            try await client.send(opcode: 0x2, [0xFF, 0xFF, 0xFF], rsv: 0x40)
            #expect(try await client.collect(until: { _ in false }).first.map(closeFrame(1007)) == true)
        }
    }

    @Test func messagesSentFromATaskOffTheLoopArrive() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket(path: "/echo/later")
            defer { client.close() }
            for index in 0..<3 {
                try await client.send(opcode: 0x1, bytes("later \(index)"))
                #expect(try await client.next() == serverFrame(0x1, bytes("later \(index)")))
            }
        }
    }

    @Test func framesPipelinedAfterTheUpgradeRequestAreProcessed() async throws {
        try await withServer { running in
            let client = try await running.connect()
            defer { client.close() }
            let early = makeClientFrame(opcode: 0x1, payload: bytes("early"), mask: [0xAA, 0xBB, 0xCC, 0xDD])
                + makeClientFrame(opcode: 0x9, payload: bytes("p"), mask: [1, 1, 1, 1])
                + makeClientFrame(opcode: 0x2, payload: [0, 1, 2], mask: [2, 2, 2, 2])
            let response = try await client.handshake(trailing: early)
            #expect(response.status == 101)
            #expect(try await client.next() == serverFrame(0x1, bytes("early")))
            #expect(try await client.next() == serverFrame(0xA, bytes("p")))
            #expect(try await client.next() == serverFrame(0x2, [0, 1, 2]))
        }
    }

    @Test func plainHTTPStillWorksOnTheSameServer() async throws {
        try await withServer { running in
            let socket = try await running.connectWebSocket()
            defer { socket.close() }
            let http = try await TestHTTPClient.connect(port: running.port)
            defer { http.close() }
            let plain = try await http.request("GET", "/plain")
            #expect(plain.status == 200)
            #expect(plain.bodyText == "plain /plain")
            // A WebSocket path without the upgrade fields is refused, and the connection stays usable.
            let refused = try await http.request("GET", "/echo")
            #expect(refused.status == 426)
            #expect(refused.header("Upgrade") == "websocket")
            let badVersion = try await http.request("GET", "/echo", headers: [
                ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "8"),
            ])
            #expect(badVersion.status == 426)
            #expect(badVersion.header("Sec-WebSocket-Version") == "13")
            #expect(try await http.request("GET", "/after").bodyText == "plain /after")
            // The WebSocket next to it is unaffected.
            try await socket.send(opcode: 0x1, bytes("still here"))
            #expect(try await socket.next() == serverFrame(0x1, bytes("still here")))
        }
    }

    /// A peer that lets more than `maxQueuedMessages` pile up unsent is dropped with 1008; what it had
    /// not started to receive is discarded so the close frame comes next.
    @Test func slowConsumerIsClosedWith1008() async throws {
        try await withServer { running in
            let client = try await running.connect(receiveBuffer: 16 * 1024)
            defer { client.close() }
            #expect(try await client.handshake(path: "/flood").status == 101)
            try await client.send(opcode: 0x1, bytes("go"))
            // Read nothing until the handler has queued every message.
            var flooded = running.responder.flooded.makeAsyncIterator()
            _ = await flooded.next()
            let events = try await client.collect(until: closeFrame(1008))
            let data = events.dropLast()
            #expect(events.last.map(closeFrame(1008)) == true, "last: \(String(describing: events.last))")
            #expect(data.count < FloodHandler.count)
            #expect(data.allSatisfy { $0 == serverFrame(0x2, [UInt8](repeating: 0x5A, count: FloodHandler.size)) })
            try await client.send(opcode: 0x8, [0x03, 0xE8])
            #expect(try await client.next() == .endOfStream)
        }
    }

    @Test func idleClientIsPingedAndDroppedWhenSilent() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket(path: "/echo/ping")
            defer { client.close() }
            #expect(try await client.next() == serverFrame(0x9, []))
            try await client.send(opcode: 0xA, [])
            // Answered: the connection lives on and is pinged again once idle.
            #expect(try await client.next() == serverFrame(0x9, []))
            // Not answered: dropped.
            #expect(try await client.next() == .endOfStream)
        }
    }

    @Test func drainClosesWebSocketsWith1001() async throws {
        try await withServer { running in
            let client = try await running.connectWebSocket()
            defer { client.close() }
            running.server.drain()
            let close = try await client.next()
            #expect(closeFrame(1001)(close), "\(close)")
            try await client.send(opcode: 0x8, [0x03, 0xE9])
            #expect(try await client.next() == .endOfStream)
            #expect(await running.server.waitUntilIdle(timeout: .seconds(3)))
        }
    }
}
