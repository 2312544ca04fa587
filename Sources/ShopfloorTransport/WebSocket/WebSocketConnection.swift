#if canImport(Glibc)
import Glibc
#endif

/// One WebSocket connection (RFC 6455) on the event loop that served its upgrade request.
///
/// Reads frames, reassembles messages (control frames may come between fragments), checks text as
/// it arrives, inflates permessage-deflate messages, answers pings and closes, and hands whole
/// messages to its ``WebSocketHandler``. Outbound messages queue in order; a peer that lets the
/// queue pass its limit is closed with 1008. Idle peers are pinged and dropped when silent.
/// Owned by its loop and touched only on its thread.
final class WebSocketConnection: EventLoopHandler {
    private enum Phase {
        case open
        /// Our close frame is queued since `since`; waiting for the peer's until the deadline, or
        /// longer while the frame itself is still unsent (``tick(now:)``).
        case closing(since: UInt64, deadline: UInt64)
        /// The connection failed or both closes are exchanged: our side is shut once the output is
        /// flushed, and input is read and dropped until end of stream or the deadline.
        case lingering(deadline: UInt64)
        case closed
    }

    let id: UInt64
    private var stream: ConnectionStream
    /// The client's address, whose connection count this connection holds until it closes.
    private let peer: IPAddress?
    private let loop: EventLoop
    private let context: ServerContext
    private let options: WebSocketOptions
    private let deflate: PerMessageDeflate?
    private let upgrade: WebSocketUpgrade
    /// The application's handle on this connection, given to every handler call.
    private let handle: WebSocket
    private var handler: (any WebSocketHandler)?
    private var phase: Phase = .open
    private var interest: UInt32 = 0

    private var inbound: InboundBuffer
    private var decoder: WebSocketFrameDecoder
    private var messageOpcode: WebSocketOpcode?
    private var messageCompressed = false
    private var message: [UInt8] = []
    private var utf8 = UTF8Validator()
    private var inflater: Inflater?

    private var outbound: [UInt8]
    private var outboundIndex = 0
    /// Where each queued message ends in `outbound`, from `messageEndsHead` on: the queue's length in messages.
    private var messageEnds: [Int] = []
    private var messageEndsHead = 0
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    private var flushThenLinger = false

    private var lastHeard: UInt64
    private var pingSentAt: UInt64?
    private var lastWriteProgress: UInt64

    private static let closeGrace: UInt64 = 2000
    private static let waiterBytes = 256 * 1024

    init(id: UInt64, stream: ConnectionStream, peer: IPAddress?, loop: EventLoop, context: ServerContext, upgrade: WebSocketUpgrade,
         inbound: InboundBuffer, outbound: [UInt8]) {
        self.id = id
        self.peer = peer
        self.stream = stream
        self.loop = loop
        self.context = context
        self.upgrade = upgrade
        options = upgrade.options
        deflate = upgrade.deflate
        self.inbound = inbound
        self.outbound = outbound
        decoder = WebSocketFrameDecoder(maxFramePayload: upgrade.options.maxMessageSize, allowsCompression: upgrade.deflate != nil)
        handle = WebSocket(route: ConnectionRoute(loop: loop, fd: stream.socket.fd, id: id))
        lastHeard = loop.now
        lastWriteProgress = loop.now
    }

    private var unsentCount: Int { outbound.count - outboundIndex }
    private var queuedMessages: Int { messageEnds.count - messageEndsHead }
    private var pingInterval: UInt64 { max(options.pingInterval.milliseconds, 100) }

    /// Takes over the descriptor from the HTTP connection that upgraded, then flushes the 101
    /// response and reads whatever the client sent after it.
    func start() {
        context.webSocketOpened()
        loop.replace(fd: stream.socket.fd, with: self)
        handler = upgrade.makeHandler(handle)
        flush()
        if context.isDraining { return close(code: .goingAway, reason: "server shutting down") }
        processInbound()
        updateInterest()
    }

    // MARK: Events

    func handle(events: UInt32) {
        if case .closed = phase { return }
        if events & Epoll.writable != 0 { flush() }
        if events & (Epoll.readable | Epoll.hangup) != 0 { readAvailable() }
        updateInterest()
    }

    func tick(now: UInt64) {
        switch phase {
        case .closed:
            return
        case .closing(let since, let deadline):
            // A close frame still queued behind a peer that stopped reading waits for it to come
            // back, up to two ping intervals: the frame tells it why (1008) instead of a bare end.
            if now >= deadline && (unsentCount == 0 || now &- since > 2 * pingInterval) { terminate() }
            return
        case .lingering(let deadline):
            if now >= deadline { terminate() }
            return
        case .open:
            break
        }
        // Output stuck for two ping intervals, or a ping unanswered behind it: the peer is not reading.
        if unsentCount > 0 && now &- lastWriteProgress > 2 * pingInterval { return tooFarBehind() }
        if let sent = pingSentAt {
            if now &- sent > pingInterval { unsentCount > 0 ? tooFarBehind() : terminate() }
        } else if now &- lastHeard > pingInterval {
            pingSentAt = now
            enqueueControl(WebSocketFrameEncoder.encode(.ping, payload: EmptyCollection()))
        }
    }

    func forceClose() {
        terminate()
    }

    func drain() {
        close(code: .goingAway, reason: "server shutting down")
    }

    // MARK: Reading

    private func readAvailable() {
        let buffer = loop.readBuffer
        repeat {
            let count: Int
            do {
                switch try stream.read(into: buffer) {
                case .bytes(let n): count = n
                case .wouldBlock: return processInbound()
                case .endOfStream: return terminate()
                }
            } catch {
                return terminate()
            }
            lastHeard = loop.now
            pingSentAt = nil
            if case .lingering = phase { continue }
            inbound.append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        } while stream.hasBufferedInput
        processInbound()
    }

    private func processInbound() {
        do throws(WebSocketError) {
            while isReading, let piece = try decoder.next(&inbound) {
                try handle(piece)
            }
        } catch {
            fail(error)
        }
    }

    private var isReading: Bool {
        switch phase {
        case .open, .closing: true
        case .lingering, .closed: false
        }
    }

    private func handle(_ piece: WebSocketFramePiece) throws(WebSocketError) {
        if piece.opcode.isControl { return try handleControl(opcode: piece.opcode, payload: piece.payload) }
        if piece.isFrameStart {
            if piece.opcode == .continuation {
                guard messageOpcode != nil else { throw .protocolError("continuation frame without a message") }
            } else {
                guard messageOpcode == nil else { throw .protocolError("new message before the previous one ended") }
                messageOpcode = piece.opcode
                messageCompressed = piece.rsv1
                utf8 = UTF8Validator()
            }
        }
        guard message.count + piece.payload.count <= options.maxMessageSize else { throw .messageTooBig }
        message.append(contentsOf: piece.payload)
        if messageOpcode == .text && !messageCompressed && !utf8.consume(piece.payload) {
            throw .invalidPayload("text message is not UTF-8")
        }
        if piece.isFrameEnd && piece.fin { try finishMessage() }
    }

    private func finishMessage() throws(WebSocketError) {
        let opcode = messageOpcode
        var payload = message
        messageOpcode = nil
        message = []
        if messageCompressed {
            payload = try inflate(payload)
            if opcode == .text && !UTF8Validator.isValid(payload) { throw .invalidPayload("text message is not UTF-8") }
        } else if opcode == .text && !utf8.isAtBoundary {
            throw .invalidPayload("text message ends inside a UTF-8 sequence")
        }
        guard case .open = phase, let handler else { return }
        handler.webSocket(handle, didReceive: opcode == .text ? .text(payload) : .binary(payload))
    }

    private func inflate(_ compressed: [UInt8]) throws(WebSocketError) -> [UInt8] {
        guard let deflate else { throw .protocolError("compressed message without permessage-deflate") }
        let inflater: Inflater
        if let existing = self.inflater {
            inflater = existing
        } else {
            do { inflater = try Inflater() } catch { throw .protocolError("cannot start inflate") }
        }
        var output: [UInt8] = []
        do {
            try inflater.inflate(compressed + [0x00, 0x00, 0xFF, 0xFF], into: &output, limit: options.maxMessageSize)
        } catch {
            switch error {
            case .tooLarge: throw .messageTooBig
            case .corrupt(let reason): throw .invalidPayload("cannot inflate: \(reason)")
            }
        }
        // Without the client's context takeover nothing is worth keeping between messages.
        self.inflater = deflate.clientNoContextTakeover ? nil : inflater
        return output
    }

    private func handleControl(opcode: WebSocketOpcode, payload: [UInt8]) throws(WebSocketError) {
        switch opcode {
        case .ping:
            if case .open = phase { enqueueControl(WebSocketFrameEncoder.encode(.pong, payload: payload)) }
        case .pong:
            pingSentAt = nil
        case .close:
            var code: WebSocketCloseCode?
            if payload.count == 1 { throw .protocolError("close payload of one byte") }
            if payload.count >= 2 {
                let received = WebSocketCloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
                guard received.isValidOnTheWire else { throw .protocolError("invalid close code \(received)") }
                guard UTF8Validator.isValid(payload.dropFirst(2)) else { throw .invalidPayload("close reason is not UTF-8") }
                code = received
            }
            if case .open = phase {
                let reply = code.map { WebSocketFrameEncoder.close($0, reason: "") } ?? WebSocketFrameEncoder.encode(.close, payload: EmptyCollection())
                appendFrame(reply)
            }
            beginLingering()
        default:
            break
        }
    }

    // MARK: Writing

    /// Queues an application message; with a `waiter`, resumes it once the queue is below half its limits.
    func enqueue(_ message: OutboundWebSocketMessage, waiter: CheckedContinuation<Void, any Error>? = nil) {
        var frames: [Int32: [UInt8]] = [:]
        enqueue(message, frames: &frames, waiter: waiter)
    }

    /// `frames` holds the message's frames by compression window (0 for none) across the
    /// connections of one broadcast, so each is looked up once per loop, not once per connection.
    func enqueue(_ message: OutboundWebSocketMessage, frames: inout [Int32: [UInt8]], waiter: CheckedContinuation<Void, any Error>? = nil) {
        guard case .open = phase else {
            waiter?.resume(throwing: ResponseBodyWriter.ConnectionClosed())
            return
        }
        let key = deflate?.serverMaxWindowBits ?? 0
        let frame: [UInt8]
        if let known = frames[key] {
            frame = known
        } else {
            frame = message.frame(for: deflate, deflaters: &loop.deflaters)
            frames[key] = frame
        }
        if waiter == nil && (queuedMessages >= options.maxQueuedMessages || unsentCount + frame.count > options.maxQueuedBytes) {
            return tooFarBehind()
        }
        appendFrame(frame)
        if let waiter { waiters.append(waiter) }
        flush()
        updateInterest()
    }

    /// Close code 1008 for a peer that does not keep up: drop what it has not started to receive,
    /// so the close frame is next on the wire, and stop the senders waiting for room.
    func tooFarBehind() {
        guard case .open = phase else { return }
        if messageEndsHead < messageEnds.count {
            // The first message not wholly written stays (it may have begun), so the frames stay whole.
            outbound.removeSubrange(messageEnds[messageEndsHead]...)
            messageEnds.removeAll()
            messageEndsHead = 0
        }
        let stopped = waiters
        waiters.removeAll()
        for waiter in stopped { waiter.resume(throwing: ResponseBodyWriter.ConnectionClosed()) }
        context.closedSlowConsumer()
        close(code: .policyViolation, reason: "too far behind")
    }

    private func enqueueControl(_ frame: [UInt8]) {
        appendFrame(frame)
        flush()
        updateInterest()
    }

    private func appendFrame(_ frame: [UInt8]) {
        if outbound.isEmpty { outbound = frame } else { outbound.append(contentsOf: frame) }
        messageEnds.append(outbound.count)
    }

    /// Starts the close handshake: our close frame goes out after what is queued.
    func close(code: WebSocketCloseCode, reason: String) {
        guard case .open = phase else { return }
        appendFrame(WebSocketFrameEncoder.close(code, reason: reason))
        phase = .closing(since: loop.now, deadline: loop.now + Self.closeGrace)
        flush()
        updateInterest()
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with the reason, then no more input.
    private func fail(_ error: WebSocketError) {
        if case .open = phase { appendFrame(WebSocketFrameEncoder.close(error.closeCode, reason: error.reason)) }
        beginLingering()
    }

    private func beginLingering() {
        inbound.removeAll()
        phase = .lingering(deadline: loop.now + Self.closeGrace)
        flushThenLinger = true
        flush()
        updateInterest()
    }

    private func flush() {
        if case .closed = phase { return }
        while unsentCount > 0 {
            let written: Int?
            do {
                written = try outbound.withUnsafeBytes { [stream, outboundIndex] raw in
                    try stream.write(UnsafeRawBufferPointer(rebasing: raw[outboundIndex...]))
                }
            } catch {
                return terminate()
            }
            guard let written else { break }
            outboundIndex += written
            lastWriteProgress = loop.now
        }
        while messageEndsHead < messageEnds.count && messageEnds[messageEndsHead] <= outboundIndex { messageEndsHead += 1 }
        if unsentCount == 0 {
            outbound.removeAll(keepingCapacity: outbound.capacity <= 16 * 1024)
            outboundIndex = 0
            messageEnds.removeAll(keepingCapacity: true)
            messageEndsHead = 0
        } else if outboundIndex > 64 * 1024 && outboundIndex * 2 > outbound.count {
            outbound.removeSubrange(..<outboundIndex)
            messageEnds = messageEnds[messageEndsHead...].map { $0 - outboundIndex }
            messageEndsHead = 0
            outboundIndex = 0
        }
        resumeWaiters()
        if unsentCount == 0 && flushThenLinger {
            flushThenLinger = false
            stream.shutdownWrite()
        }
    }

    /// Senders that wait (a replay) go on once the queue is down to ``waiterBytes`` or half the
    /// limits: enough in flight to keep the peer's pipe full, and a connection that stops reading
    /// holds that much of its replay, not the whole queue's worth.
    private func resumeWaiters() {
        guard !waiters.isEmpty, unsentCount <= min(options.maxQueuedBytes / 2, Self.waiterBytes),
              queuedMessages <= options.maxQueuedMessages / 2 else { return }
        let ready = waiters
        waiters.removeAll()
        for waiter in ready { waiter.resume() }
    }

    private func updateInterest() {
        if case .closed = phase { return }
        let wanted = Epoll.readable | (unsentCount > 0 ? Epoll.writable : 0)
        guard wanted != interest else { return }
        interest = wanted
        loop.setInterest(fd: stream.socket.fd, events: wanted)
    }

    // MARK: Closing

    /// Closes the socket now and tells the handler.
    private func terminate() {
        if case .closed = phase { return }
        phase = .closed
        for waiter in waiters { waiter.resume(throwing: ResponseBodyWriter.ConnectionClosed()) }
        waiters.removeAll()
        loop.deregister(fd: stream.socket.fd)
        stream.tls = nil
        stream.socket.close()
        context.webSocketClosed()
        context.connectionClosed(from: peer)
        let handler = handler
        self.handler = nil
        handler?.webSocketDidClose(handle)
    }
}

@available(*, unavailable)
extension WebSocketConnection: Sendable {}
