#if canImport(Glibc)
import Glibc
#endif
import Logging
import HTTPTypes

/// One client connection: reads and decodes requests, runs each on a request worker
/// (``RequestWorkers``), and writes the responses back in request order (RFC 9112 §9.3.2 pipelining).
///
/// Owned by one ``EventLoop`` and touched only on its thread. Tasks reach it through a
/// ``ConnectionRoute``; if the connection has closed by then, what they send is dropped.
///
/// Flow control: the connection stops reading (drops `EPOLLIN`) while it has
/// ``HTTPLimits/maxPipelinedRequests`` responses outstanding or more than
/// ``HTTPLimits/outboundHighWater`` bytes unsent, so a client that sends but does not read cannot
/// make the server buffer without bound.
final class HTTPConnection: EventLoopHandler {
    /// A response position in the pipeline: bytes ready to go once every earlier response is sent.
    private final class Slot {
        var pending: [UInt8] = []
        var finished = false
        var closing = false
        var waiter: CheckedContinuation<Void, any Error>?
        var upgrade: WebSocketUpgrade?
    }

    private enum Phase {
        case handshaking
        case open
        /// Write side shut after the last response; reading and discarding until EOF or the deadline,
        /// so the client reads our final response instead of a reset (RFC 9112 §9.6).
        case lingering(until: UInt64)
        case closed
    }

    let id: UInt64
    private var stream: ConnectionStream
    private let loop: EventLoop
    private let context: ServerContext
    private var phase: Phase
    /// The client's address, which its requests carry and whose connection count this one holds.
    private let peer: IPAddress?
    private var inbound = InboundBuffer()
    private var decoder: HTTPRequestDecoder
    private var slots: [Slot] = []
    private var firstSlot: UInt64 = 0
    private var outbound: [UInt8] = []
    private var outboundIndex = 0
    private var acceptsRequests = true
    /// The slot of a request asking to change protocol: nothing after it is parsed as HTTP until its
    /// response says whether the connection switched.
    private var upgradeSlot: UInt64?
    private var peerClosed = false
    /// Nothing read yet: a connection that says nothing gets the header timeout, not the idle one,
    /// so silent sockets cannot hold the server's connection slots for long.
    private var silent = true
    private var closeWhenFlushed = false
    private var interest: UInt32 = 0
    private var phaseStart: UInt64
    private var lastWriteProgress: UInt64

    init(id: UInt64, socket: Socket, peer: IPAddress?, loop: EventLoop, context: ServerContext) throws {
        self.id = id
        self.peer = peer
        self.loop = loop
        self.context = context
        decoder = HTTPRequestDecoder(limits: context.limits, isSecure: context.tls != nil, peer: peer)
        if let tlsContext = context.tls {
            stream = ConnectionStream(socket: socket, tls: try TLSConnection(context: tlsContext, fd: socket.fd))
            phase = .handshaking
        } else {
            stream = ConnectionStream(socket: socket, tls: nil)
            phase = .open
        }
        phaseStart = loop.now
        lastWriteProgress = loop.now
        try? socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    private var route: ConnectionRoute { ConnectionRoute(loop: loop, fd: stream.socket.fd, id: id) }
    private var unsentCount: Int { outbound.count - outboundIndex }
    private var isIdle: Bool { slots.isEmpty && unsentCount == 0 && inbound.isEmpty && !decoder.isMidRequest }

    func register() throws(SystemError) {
        interest = Epoll.readable
        try loop.register(self, fd: stream.socket.fd, events: interest)
    }

    // MARK: Events

    func handle(events: UInt32) {
        if case .closed = phase { return }
        if case .handshaking = phase {
            continueHandshake()
            return
        }
        if events & Epoll.hangup != 0 && events & Epoll.readable == 0 { return close() }
        if events & Epoll.writable != 0 {
            flush()
            processInbound()
        }
        if events & Epoll.readable != 0 { readAvailable() }
    }

    func tick(now: UInt64) {
        let limits = context.limits
        switch phase {
        case .closed:
            return
        case .lingering(let until):
            if now >= until { close() }
            return
        case .handshaking:
            if now &- phaseStart > limits.headerTimeout.milliseconds { close() }
            return
        case .open:
            break
        }
        if unsentCount > 0 {
            if now &- lastWriteProgress > limits.idleTimeout.milliseconds { close() }
        } else if !slots.isEmpty {
            return
        } else if decoder.isReadingBody {
            if now &- phaseStart > limits.bodyTimeout.milliseconds { fail(with: .requestTimeout) }
        } else if !inbound.isEmpty || decoder.isMidRequest {
            if now &- phaseStart > limits.headerTimeout.milliseconds { fail(with: .requestTimeout) }
        } else if silent {
            guard now &- phaseStart > limits.headerTimeout.milliseconds else { return }
            // A starved loop can tick before reading what came: look before deciding.
            readAvailable()
            if silent, case .open = phase { close() }
        } else if now &- phaseStart > limits.idleTimeout.milliseconds {
            close()
        }
    }

    func forceClose() {
        close()
    }

    /// Server drain: finish what is in flight, take nothing new, close when done.
    func drain() {
        guard case .open = phase else {
            if case .handshaking = phase { close() }
            return
        }
        acceptsRequests = false
        if isIdle { close() } else { closeWhenFlushed = true }
    }

    // MARK: Reading

    private func continueHandshake() {
        guard let tls = stream.tls else { return }
        do {
            switch try tls.handshake() {
            case .done:
                phase = .open
                phaseStart = loop.now
                setInterest(Epoll.readable)
                readAvailable()
            case .wantRead: setInterest(Epoll.readable)
            case .wantWrite: setInterest(Epoll.writable)
            case .closed: close()
            }
        } catch {
            context.logger.debug("TLS handshake failed: \(error)")
            close()
        }
    }

    private func readAvailable() {
        let buffer = loop.readBuffer
        repeat {
            let count: Int
            do {
                switch try stream.read(into: buffer) {
                case .bytes(let n): count = n
                case .wouldBlock: return processInbound()
                case .endOfStream: return peerDidClose()
                }
            } catch {
                return close()
            }
            if case .lingering = phase { continue }
            silent = false
            if inbound.isEmpty && !decoder.isMidRequest && slots.isEmpty { phaseStart = loop.now }
            inbound.append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        } while stream.hasBufferedInput
        processInbound()
    }

    private func peerDidClose() {
        peerClosed = true
        if case .lingering = phase { return close() }
        processInbound()
        if slots.isEmpty && unsentCount == 0 { close() } else { closeWhenFlushed = true }
    }

    private var canTakeRequest: Bool {
        acceptsRequests && upgradeSlot == nil && slots.count < context.limits.maxPipelinedRequests && unsentCount < context.limits.outboundHighWater
    }

    /// Decodes as many requests as flow control allows and hands each to a worker.
    private func processInbound() {
        guard case .open = phase else { return }
        while canTakeRequest {
            let wasReadingBody = decoder.isReadingBody
            do {
                guard let event = try decoder.next(&inbound) else {
                    if decoder.isReadingBody && !wasReadingBody { phaseStart = loop.now }
                    break
                }
                switch event {
                case .expectsContinue:
                    phaseStart = loop.now
                    if slots.isEmpty { enqueue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
                case .request(let request):
                    dispatch(request)
                }
            } catch {
                fail(with: .parse(error))
                break
            }
        }
        updateInterest()
    }

    private func dispatch(_ request: HTTPServerRequest) {
        if !request.keepAlive { acceptsRequests = false }
        let slot = firstSlot + UInt64(slots.count)
        slots.append(Slot())
        if request.head.headerFields[.upgrade] != nil { upgradeSlot = slot }
        phaseStart = loop.now
        let route = route
        let context = context
        context.workers.run {
            await context.respond(to: request, route: route, slot: slot)
        }
    }

    /// Answers input that never became a request with the responder's error response, then closes.
    private func fail(with error: HTTPTransportError) {
        acceptsRequests = false
        inbound.removeAll()
        let slot = Slot()
        let response = context.responder.errorResponse(for: error)
        let body: [UInt8] = if case .bytes(let bytes) = response.body { bytes } else { [] }
        slot.pending = HTTPResponseEncoder.encode(response, body: body, context: .init(keepAlive: false), closing: true)
        slot.finished = true
        slot.closing = true
        slots.append(slot)
        pump()
        updateInterest()
    }

    // MARK: Writing

    /// Takes bytes for the response in `slot` from its task (on this loop).
    func receive(slot id: UInt64, bytes: [UInt8], finished: Bool, closing: Bool, waiter: CheckedContinuation<Void, any Error>?,
                 upgrade: WebSocketUpgrade? = nil) {
        guard id >= firstSlot, id < firstSlot + UInt64(slots.count) else {
            waiter?.resume(throwing: ResponseBodyWriter.ConnectionClosed())
            return
        }
        let slot = slots[Int(id - firstSlot)]
        // Most responses arrive whole into an empty slot: taken as they are, not copied.
        if slot.pending.isEmpty { slot.pending = bytes } else { slot.pending.append(contentsOf: bytes) }
        slot.finished = finished
        slot.closing = closing
        slot.waiter = waiter
        slot.upgrade = upgrade
        if id == upgradeSlot && finished && upgrade == nil { upgradeSlot = nil }
        pump()
        if case .closed = phase { return }
        processInbound()
    }

    private func enqueue(_ bytes: [UInt8]) {
        outbound.append(contentsOf: bytes)
        flush()
    }

    /// Moves ready bytes from the head of the pipeline to the socket.
    private func pump() {
        while let head = slots.first {
            if !head.pending.isEmpty {
                if outbound.isEmpty { swap(&outbound, &head.pending) } else { outbound.append(contentsOf: head.pending) }
                head.pending.removeAll(keepingCapacity: false)
            }
            guard head.finished else { break }
            slots.removeFirst()
            firstSlot += 1
            if let upgrade = head.upgrade { return switchToWebSocket(upgrade) }
            head.waiter?.resume()
            head.waiter = nil
            if head.closing {
                acceptsRequests = false
                closeWhenFlushed = true
                for slot in slots { slot.waiter?.resume(throwing: ResponseBodyWriter.ConnectionClosed()) }
                slots.removeAll()
                break
            }
        }
        flush()
    }

    private func flush() {
        guard case .open = phase else {
            if case .handshaking = phase { continueHandshake() }
            return
        }
        while unsentCount > 0 {
            let result: Int?
            do {
                result = try outbound.withUnsafeBytes { [stream, outboundIndex] raw in
                    try stream.write(UnsafeRawBufferPointer(rebasing: raw[outboundIndex...]))
                }
            } catch {
                return close()
            }
            guard let written = result else { break }
            outboundIndex += written
            lastWriteProgress = loop.now
        }
        if unsentCount == 0 {
            outbound.removeAll(keepingCapacity: outbound.capacity <= 64 * 1024)
            outboundIndex = 0
        }
        resumeWriters()
        guard unsentCount == 0 && slots.isEmpty else { return }
        if closeWhenFlushed { return peerClosed ? close() : beginLingeringClose() }
        phaseStart = loop.now
    }

    private func resumeWriters() {
        guard let head = slots.first, let waiter = head.waiter, unsentCount < context.limits.outboundHighWater else { return }
        head.waiter = nil
        waiter.resume()
        for slot in slots.dropFirst() where slot.pending.count < context.limits.outboundHighWater {
            slot.waiter?.resume()
            slot.waiter = nil
        }
    }

    private func updateInterest() {
        guard case .open = phase else { return }
        var wanted: UInt32 = 0
        if canTakeRequest && !peerClosed { wanted |= Epoll.readable }
        if unsentCount > 0 { wanted |= Epoll.writable }
        setInterest(wanted)
    }

    private func setInterest(_ events: UInt32) {
        guard events != interest else { return }
        interest = events
        loop.setInterest(fd: stream.socket.fd, events: events)
    }

    /// Hands the socket, TLS session and any bytes read past the upgrade request to a
    /// ``WebSocketConnection``; this object is done with the descriptor from here on.
    private func switchToWebSocket(_ upgrade: WebSocketUpgrade) {
        phase = .closed
        let webSocket = WebSocketConnection(
            id: id, stream: stream, peer: peer, loop: loop, context: context, upgrade: upgrade,
            inbound: inbound, outbound: Array(outbound[outboundIndex...]))
        inbound.removeAll()
        outbound.removeAll()
        outboundIndex = 0
        webSocket.start()
    }

    // MARK: Closing

    private func beginLingeringClose() {
        stream.shutdownWrite()
        phase = .lingering(until: loop.now + 2000)
        setInterest(Epoll.readable)
    }

    private func close() {
        if case .closed = phase { return }
        phase = .closed
        for slot in slots { slot.waiter?.resume(throwing: ResponseBodyWriter.ConnectionClosed()) }
        slots.removeAll()
        loop.deregister(fd: stream.socket.fd)
        stream.tls = nil
        stream.socket.close()
        context.connectionClosed(from: peer)
    }
}

@available(*, unavailable)
extension HTTPConnection: Sendable {}
