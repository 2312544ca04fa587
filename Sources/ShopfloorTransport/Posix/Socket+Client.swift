#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The calls an outbound connection makes: a non-blocking connect, and waiting for readiness with
/// `poll` until a deadline, so a thread that owns one connection blocks without ever blocking forever.
extension Socket {
    /// What `poll` reported for one socket.
    enum Readiness {
        case ready
        case timedOut
    }

    /// Makes an unconnected, non-blocking stream socket for `family`.
    static func makeConnecting(family: Int32) throws(SystemError) -> Socket {
        let fd = try syscallChecked("socket") {
            Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        return Socket(fd: fd)
    }

    /// Starts connecting to `address`: `true` if already connected (loopback may be), `false` if the
    /// connection is under way and ``waitUntil(_:deadline:)`` writable, then ``pendingError()``, tell
    /// how it ended (`connect(2)`, EINPROGRESS).
    func startConnect(to address: SocketAddress) throws(SystemError) -> Bool {
        do {
            _ = try address.withSockaddr { pointer, length throws(SystemError) in
                try syscallChecked("connect(\(address))") { Glibc.connect(fd, pointer, length) }
            }
            return true
        } catch where error.errno == EINPROGRESS || error.errno == EALREADY {
            // EALREADY: EINTR interrupted the first call and the retry found the attempt still running.
            return false
        }
    }

    /// The outcome of a finished non-blocking connect (`SO_ERROR`): `nil` when it succeeded.
    func pendingError(connectingTo address: SocketAddress) throws(SystemError) -> SystemError? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        try syscallChecked("getsockopt(SO_ERROR)") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value == 0 ? nil : SystemError(call: "connect(\(address))", errno: value)
    }

    /// Waits until the socket is readable (`POLLIN`) or writable (`POLLOUT`), or the deadline passes.
    /// An error or hang-up counts as ready: the next call on the socket reports it.
    func waitUntil(_ events: Int16, deadline: ContinuousClock.Instant) throws(SystemError) -> Readiness {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        // The closure runs again after EINTR, so a retry waits only for the time left.
        let count = try syscallChecked("poll") { Glibc.poll(&descriptor, 1, Socket.milliseconds(until: deadline)) }
        return count == 0 ? .timedOut : .ready
    }

    /// Whole milliseconds from now to `deadline`, rounded up so a wait never ends early; 0 once passed.
    private static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}
