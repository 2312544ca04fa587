#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
@testable import ShopfloorTransport

/// A raw HTTP peer on 127.0.0.1 that follows a script: each accepted connection runs `script` on a
/// thread of its own and is closed when the script returns. For what a real server does only now and
/// then (closing an idle connection, streaming without end, never answering), and for counting the
/// connections a client makes.
///
/// ``stop()`` ends the accept loop, after accepting whatever is still queued so ``accepted`` is exact;
/// `deinit` does the same. Scripts end on their own when the client closes (their reads see the end of
/// the stream), within a minute at worst.
final class ScriptedPeer: Sendable {
    let port: Int
    private let listener: Socket
    private let acceptedCount = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let loopEnded = DispatchSemaphore(value: 0)

    init(_ script: @escaping @Sendable (PeerConnection, _ number: Int) -> Void) throws {
        listener = try Socket.makeListening(address: try SocketAddress.resolve(host: "127.0.0.1", port: 0), reusePort: false, backlog: 64)
        port = try listener.localAddress().port
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                _ = try? listener.waitUntil(Int16(POLLIN), deadline: .now + .milliseconds(20))
                acceptQueued(script)
            }
            acceptQueued(script)
            loopEnded.signal()
        }
        thread.name = "ScriptedPeer"
        thread.start()
    }

    deinit { stop() }

    /// Connections accepted so far.
    var accepted: Int { acceptedCount.load(ordering: .acquiring) }

    /// Stops accepting; connections already accepted run their scripts to the end.
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loopEnded.wait()
        listener.close()
    }

    private func acceptQueued(_ script: @escaping @Sendable (PeerConnection, Int) -> Void) {
        while let socket = (try? listener.accept())?.socket {
            let number = acceptedCount.add(1, ordering: .acquiringAndReleasing).newValue
            let thread = Thread {
                let connection = PeerConnection(socket: socket)
                script(connection, number)
                connection.close()
            }
            thread.name = "ScriptedPeer \(number)"
            thread.start()
        }
    }
}

/// A request as ``PeerConnection/readRequest()`` read it.
struct PeerRequest: Sendable {
    /// `METHOD target HTTP/1.1`.
    let requestLine: String
    let fields: [(name: String, value: String)]
    let body: [UInt8]

    func field(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// One accepted connection, read and written with blocking calls bounded by a minute, by the one
/// thread running its script. A minute, not less: in a full run on two cores a test can wait over ten
/// seconds for its turn between two requests, and a peer that gave up meanwhile would close a
/// connection the test means to see reused.
final class PeerConnection {
    private let socket: Socket
    private var input: [UInt8] = []
    private var isClosed = false
    private static let patience: Duration = .seconds(60)

    init(socket: Socket) {
        self.socket = socket
    }

    /// The next request, head and `Content-Length` body; `nil` once the client closed, or after ten
    /// seconds without one.
    func readRequest() -> PeerRequest? {
        let deadline = ContinuousClock.now + Self.patience
        var headEnd: Int?
        while true {
            headEnd = input.indices.dropLast(3).first { input[$0] == 13 && input[$0 + 1] == 10 && input[$0 + 2] == 13 && input[$0 + 3] == 10 }
            if headEnd != nil { break }
            guard fill(deadline: deadline) else { return nil }
        }
        let head = String(decoding: input[..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let fields = head.dropFirst().map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            return (String(line[..<colon]), line[colon...].dropFirst().trimmingCharacters(in: .whitespaces))
        }
        input.removeFirst(headEnd! + 4)
        let length = fields.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        while input.count < length {
            guard fill(deadline: deadline) else { return nil }
        }
        let body = Array(input[..<length])
        input.removeFirst(length)
        return PeerRequest(requestLine: head[0], fields: fields, body: body)
    }

    /// Writes all of `bytes`; `false` if the client went away or stopped reading for a minute.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        let deadline = ContinuousClock.now + Self.patience
        var offset = 0
        while offset < bytes.count {
            let result = bytes[offset...].withUnsafeBytes { try? socket.write($0) }
            switch result {
            case .processed(let count): offset += count
            case .wouldBlock:
                guard (try? socket.waitUntil(Int16(POLLOUT), deadline: deadline)) == .ready else { return false }
            case nil: return false
            }
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool {
        write(Array(text.utf8))
    }

    /// Waits until the client closes the connection (or a minute passes), discarding what it sends.
    func waitForClose() {
        let deadline = ContinuousClock.now + Self.patience
        while fill(deadline: deadline) { input.removeAll() }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        socket.close()
    }

    /// Appends what one read brings; `false` at the end of the stream, on an error or at the deadline.
    private func fill(deadline: ContinuousClock.Instant) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let result = buffer.withUnsafeMutableBytes { try? socket.read(into: $0) }
            switch result {
            case .processed(0), nil: return false
            case .processed(let count):
                input.append(contentsOf: buffer[..<count])
                return true
            case .wouldBlock:
                guard (try? socket.waitUntil(Int16(POLLIN), deadline: deadline)) == .ready else { return false }
            }
        }
    }
}
