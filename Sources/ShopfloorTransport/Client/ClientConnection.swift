#if canImport(Glibc)
import Glibc
#endif

/// One outbound TCP connection, plain or TLS, used through blocking calls that each have a deadline.
///
/// Made for a thread that owns the connection (outbound mail runs each connection on a dedicated
/// thread, never on the cooperative pool or an event loop). The socket itself stays non-blocking and
/// every wait is a `poll` bounded by the call's timeout, so a silent or stalled peer costs at most that
/// timeout and surfaces as ``ClientConnectionError/timedOut(operation:)``. Reads are bounded: a line
/// past the caller's limit is an error, never an unbounded buffer, and a raw read returns at most one
/// read's worth, for the caller's decoder to bound.
///
/// One thread uses it at a time, so it is not `Sendable`. ``close()`` ends it; `deinit` closes the
/// socket of a connection that was not closed.
public final class ClientConnection {
    /// The address the connection reached, for logs (vetting happens before connecting: see
    /// ``connect(host:port:timeout:admits:)``).
    public let peer: SocketAddress

    private let socket: Socket
    private var tls: TLSConnection?
    private var isClosed = false
    /// Bytes received and not yet returned as lines; `input[inputStart...]` is what is left.
    private var input: [UInt8] = []
    private var inputStart = 0

    private static let readChunk = 16 * 1024

    private init(socket: Socket, peer: SocketAddress) {
        self.socket = socket
        self.peer = peer
    }

    deinit {
        if !isClosed { socket.close() }
    }

    /// Resolves `host` (IPv4 and IPv6) and connects to the first address that answers, in resolver order.
    ///
    /// `timeout` bounds the connection attempts together, not each address; name resolution is left to
    /// the system resolver's own timeouts (`getaddrinfo` takes none).
    ///
    /// - Parameter admits: asked about each resolved address just before connecting to it; an address it
    ///   refuses is skipped, never connected to. Vetting here, on the address `connect(2)` gets, and not
    ///   on an earlier lookup of the same name, is what keeps a resolver that answers differently the
    ///   second time (DNS rebinding) from steering a connection past the vetting. When it refuses every
    ///   address the error is ``ClientConnectionError/addressRefused(host:addresses:)``.
    public static func connect(
        host: String, port: Int, timeout: Duration, admits: (SocketAddress) -> Bool = { _ in true }
    ) throws(ClientConnectionError) -> ClientConnection {
        let deadline = ContinuousClock.now + timeout
        var lastError: ClientConnectionError?
        var refused: [SocketAddress] = []
        for address in try SocketAddress.resolveAll(host: host, port: port) {
            guard admits(address) else {
                refused.append(address)
                continue
            }
            do {
                return try connect(to: address, deadline: deadline)
            } catch {
                lastError = error
                if case .timedOut = error { break }
            }
        }
        throw lastError ?? .addressRefused(host: host, addresses: refused)
    }

    private static func connect(to address: SocketAddress, deadline: ContinuousClock.Instant) throws(ClientConnectionError) -> ClientConnection {
        let socket = try system { () throws(SystemError) in try Socket.makeConnecting(family: address.family) }
        do throws(ClientConnectionError) {
            if try !system({ () throws(SystemError) in try socket.startConnect(to: address) }) {
                let readiness = try system { () throws(SystemError) in try socket.waitUntil(Int16(POLLOUT), deadline: deadline) }
                guard readiness == .ready else { throw .timedOut(operation: "connect to \(address)") }
                if let failure = try system({ () throws(SystemError) in try socket.pendingError(connectingTo: address) }) {
                    throw .system(failure)
                }
            }
        } catch {
            socket.close()
            throw error
        }
        return ClientConnection(socket: socket, peer: address)
    }

    /// Whether the connection runs over TLS.
    public var isTLS: Bool { tls != nil }

    /// Starts TLS on this connection (at once for implicit TLS, or after a STARTTLS exchange) and
    /// verifies that the peer's certificate chains to `context`'s roots and names `host`.
    ///
    /// Bytes the peer sent before the handshake and the caller has not read are refused: anything there
    /// was sent in the clear and could be an attacker's injected reply (RFC 3207 §4.2, §6).
    public func startTLS(_ context: TLSClientContext, host: String, timeout: Duration) throws(ClientConnectionError) {
        precondition(!isClosed && tls == nil, "startTLS on a closed or TLS connection")
        guard inputStart == input.count else { throw .unexpectedInputBeforeTLS }
        // A write to a connection the peer has reset must fail with EPIPE, not kill the process; OpenSSL
        // writes with write(2), where MSG_NOSIGNAL cannot be passed (as HTTPServer does).
        signal(SIGPIPE, SIG_IGN)
        let deadline = ContinuousClock.now + timeout
        let session: TLSConnection
        do {
            session = try TLSConnection(context: context, fd: socket.fd, host: host)
        } catch {
            throw .tls(error, verification: nil)
        }
        while true {
            let outcome: TLSConnection.Outcome
            do {
                outcome = try session.handshake()
            } catch {
                throw .tls(error, verification: session.verificationFailure)
            }
            switch outcome {
            case .done: tls = session; return
            case .wantRead: try wait(Int16(POLLIN), deadline: deadline, operation: "TLS handshake")
            case .wantWrite: try wait(Int16(POLLOUT), deadline: deadline, operation: "TLS handshake")
            case .closed: throw .closedByPeer
            }
        }
    }

    /// Writes all of `bytes`, or throws when `timeout` passes first.
    public func write(_ bytes: [UInt8], timeout: Duration) throws(ClientConnectionError) {
        precondition(!isClosed, "write on a closed connection")
        let deadline = ContinuousClock.now + timeout
        var offset = 0
        while offset < bytes.count {
            // Array's `withUnsafeBytes` rethrows untyped errors; a `Result` keeps the type.
            let step = bytes.withUnsafeBytes { raw in
                Result { () throws(ClientConnectionError) in try writeStep(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            }
            switch try step.get() {
            case .progressed(let count): offset += count
            case .waitFor(let events): try wait(events, deadline: deadline, operation: "write")
            }
        }
    }

    /// The next line, without its line feed or a carriage return before it.
    ///
    /// - Parameter maxLength: the longest line accepted, not counting CR LF; a longer line throws
    ///   ``ClientConnectionError/lineTooLong(limit:)`` once that many bytes arrived without a line feed.
    public func readLine(maxLength: Int, timeout: Duration) throws(ClientConnectionError) -> [UInt8] {
        precondition(!isClosed, "read on a closed connection")
        let deadline = ContinuousClock.now + timeout
        var searched = inputStart
        while true {
            if let feed = input[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = feed
                if end > inputStart, input[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                guard end - inputStart <= maxLength else { throw .lineTooLong(limit: maxLength) }
                let line = Array(input[inputStart..<end])
                inputStart = feed + 1
                return line
            }
            // Room for the line and its CR; beyond that no line feed can make the line short enough.
            guard input.count - inputStart <= maxLength + 1 else { throw .lineTooLong(limit: maxLength) }
            if inputStart > 0 {
                input.removeFirst(inputStart)
                inputStart = 0
            }
            searched = input.count
            try fill(deadline: deadline)
        }
    }

    /// The bytes that have arrived and not been read: those left after the last line read, or else what
    /// one read brings (at most 16 KiB), waiting for it at most `timeout`.
    public func read(timeout: Duration) throws(ClientConnectionError) -> [UInt8] {
        precondition(!isClosed, "read on a closed connection")
        if inputStart == input.count {
            input.removeAll(keepingCapacity: true)
            inputStart = 0
            try fill(deadline: ContinuousClock.now + timeout)
        }
        defer {
            input.removeAll(keepingCapacity: true)
            inputStart = 0
        }
        return Array(input[inputStart...])
    }

    /// Sends TLS close_notify if TLS is on, then closes the socket. Further calls are a bug.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        tls?.shutdown()
        socket.close()
    }

    private enum Step {
        case progressed(Int)
        case waitFor(Int16)
    }

    private func writeStep(_ bytes: UnsafeRawBufferPointer) throws(ClientConnectionError) -> Step {
        if let tls {
            let outcome: TLSConnection.Outcome
            do { outcome = try tls.write(bytes) } catch { throw .tls(error, verification: nil) }
            switch outcome {
            case .done(let count): return .progressed(count)
            case .wantRead: return .waitFor(Int16(POLLIN))
            case .wantWrite: return .waitFor(Int16(POLLOUT))
            case .closed: throw .closedByPeer
            }
        }
        switch try system({ () throws(SystemError) in try socket.write(bytes) }) {
        case .processed(let count): return .progressed(count)
        case .wouldBlock: return .waitFor(Int16(POLLOUT))
        }
    }

    /// Appends what one read brings, waiting for it until `deadline`.
    private func fill(deadline: ContinuousClock.Instant) throws(ClientConnectionError) {
        while true {
            let step = withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 1) { buffer in
                Result { () throws(ClientConnectionError) in
                    let step = try readStep(buffer)
                    if case .progressed(let count) = step { input.append(contentsOf: buffer[..<count]) }
                    return step
                }
            }
            switch try step.get() {
            case .progressed: return
            case .waitFor(let events): try wait(events, deadline: deadline, operation: "read")
            }
        }
    }

    private func readStep(_ buffer: UnsafeMutableRawBufferPointer) throws(ClientConnectionError) -> Step {
        if let tls {
            let outcome: TLSConnection.Outcome
            do { outcome = try tls.read(into: buffer) } catch { throw .tls(error, verification: nil) }
            switch outcome {
            case .done(let count): return .progressed(count)
            case .wantRead: return .waitFor(Int16(POLLIN))
            case .wantWrite: return .waitFor(Int16(POLLOUT))
            case .closed: throw .closedByPeer
            }
        }
        switch try system({ () throws(SystemError) in try socket.read(into: buffer) }) {
        case .processed(0): throw .closedByPeer
        case .processed(let count): return .progressed(count)
        case .wouldBlock: return .waitFor(Int16(POLLIN))
        }
    }

    private func wait(_ events: Int16, deadline: ContinuousClock.Instant, operation: String) throws(ClientConnectionError) {
        let readiness = try system { () throws(SystemError) in try socket.waitUntil(events, deadline: deadline) }
        if readiness == .timedOut { throw .timedOut(operation: operation) }
    }

    private static func system<T>(_ body: () throws(SystemError) -> T) throws(ClientConnectionError) -> T {
        do { return try body() } catch { throw .system(error) }
    }

    private func system<T>(_ body: () throws(SystemError) -> T) throws(ClientConnectionError) -> T {
        try Self.system(body)
    }
}

@available(*, unavailable)
extension ClientConnection: Sendable {}
