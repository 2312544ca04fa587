#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Foundation
import Synchronization

/// A deliberately plain HTTP/1.1 client over one blocking TCP socket, for tests that need to control
/// exactly which bytes go out and see exactly which come back (pipelining, malformed input, framing).
///
/// Every blocking call runs on a fresh `Thread` and hands its result back through a continuation, so a
/// test awaiting it never blocks a thread of Swift's cooperative pool, on which the server's handlers
/// run too. Reads time out (`SO_RCVTIMEO`) with ``Failure/timedOut`` so a test cannot hang.
///
/// Calls are meant to be made one at a time, as a test does; the state between them (bytes received
/// but not yet decoded) is guarded by a mutex all the same.
public final class TestHTTPClient: Sendable {
    /// Why a call failed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Nothing arrived within the receive timeout.
        case timedOut
        /// The server closed the connection before a whole response arrived.
        case closedMidResponse(received: [UInt8])
        /// The bytes were not an HTTP/1.1 response.
        case malformed(String)
        /// A system call failed with `errno`.
        case system(call: String, errno: Int32)

        public var description: String {
            switch self {
            case .timedOut: "timed out waiting for the server"
            case .closedMidResponse(let received): "connection closed after \(received.count) bytes of a response"
            case .malformed(let reason): reason
            case .system(let call, let errno): "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
            }
        }
    }

    private struct State: Sendable {
        var received: [UInt8] = []
        var sawEndOfStream = false
    }

    private let fd: Int32
    private let state = Mutex(State())
    private let closed = Atomic<Bool>(false)

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit { close() }

    /// Connects to `host:port` (an IPv4 literal). Reads give up after `timeout`.
    public static func connect(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(5)) async throws(Failure) -> TestHTTPClient {
        let fd = try await onThread { () throws(Failure) -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
                Glibc.close(fd)
                throw .system(call: "inet_pton(\(host))", errno: EINVAL)
            }
            let (seconds, attoseconds) = timeout.components
            var interval = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let status = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard status == 0 else {
                let error = errno
                Glibc.close(fd)
                throw .system(call: "connect", errno: error)
            }
            return fd
        }
        return TestHTTPClient(fd: fd)
    }

    /// Sends `bytes` in full.
    public func send(_ bytes: [UInt8]) async throws(Failure) {
        let fd = fd
        try await TestHTTPClient.onThread { () throws(Failure) in
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

    /// Sends `text` as UTF-8 bytes, exactly as written (use `\r\n` line ends).
    public func send(_ text: String) async throws(Failure) {
        try await send(Array(text.utf8))
    }

    /// Reads the next response. `isHead` says the request was HEAD (the response then has no body).
    /// An interim `1xx` response is returned like any other.
    public func readResponse(isHead: Bool = false) async throws(Failure) -> TestHTTPResponse {
        let fd = fd
        return try await TestHTTPClient.onThread { [self] () throws(Failure) -> TestHTTPResponse in
            try self.state.withLock { state throws(Failure) -> TestHTTPResponse in
                while true {
                    do throws(TestHTTPResponse.Malformed) {
                        if let response = try TestHTTPResponse.decode(
                            from: &state.received, isHead: isHead, atEndOfStream: state.sawEndOfStream) {
                            return response
                        }
                    } catch {
                        throw .malformed(error.description)
                    }
                    if state.sawEndOfStream { throw .closedMidResponse(received: state.received) }
                    try TestHTTPClient.receive(fd: fd, into: &state)
                }
            }
        }
    }

    /// Sends `request` and reads its response.
    public func request(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws(Failure) -> TestHTTPResponse {
        try await send(TestHTTPClient.makeRequest(method, target, headers: headers, body: body))
        return try await readResponse(isHead: method == "HEAD")
    }

    /// Reads until the server closes the connection and returns every byte not yet consumed by
    /// ``readResponse(isHead:)``: empty when the server sent nothing more before closing.
    /// Throws ``Failure/timedOut`` if the connection stays open.
    public func readUntilClose() async throws(Failure) -> [UInt8] {
        let fd = fd
        return try await TestHTTPClient.onThread { [self] () throws(Failure) -> [UInt8] in
            try self.state.withLock { state throws(Failure) -> [UInt8] in
                while !state.sawEndOfStream {
                    try TestHTTPClient.receive(fd: fd, into: &state)
                }
                defer { state.received.removeAll() }
                return state.received
            }
        }
    }

    /// Closes the socket. Safe to call more than once, and from a `defer`.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(fd)
    }

    /// The bytes of a request: request line, `Host: 127.0.0.1` unless `headers` has a Host,
    /// the given fields, `Content-Length` when there is a body and no framing field was given.
    public static func makeRequest(
        _ method: String, _ target: String, version: String = "HTTP/1.1", headers: [(String, String)] = [], body: [UInt8]? = nil
    ) -> [UInt8] {
        var text = "\(method) \(target) \(version)\r\n"
        let names = Set(headers.map { $0.0.lowercased() })
        if !names.contains("host") { text += "Host: 127.0.0.1\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body, !names.contains("content-length"), !names.contains("transfer-encoding") {
            text += "Content-Length: \(body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8) + (body ?? [])
    }

    // MARK: Blocking parts, run on their own thread

    private static func receive(fd: Int32, into state: inout State) throws(Failure) {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
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
            case let error: throw .system(call: "recv", errno: error)
            }
        }
    }

    /// Runs `body` on a new thread and resumes with its result, leaving the cooperative pool free.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(Failure) -> T in try body() })
            }
            thread.name = "TestHTTPClient"
            thread.start()
        }
        return try result.get()
    }
}
