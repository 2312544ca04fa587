#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// An epoll instance in level-triggered mode, keyed by file descriptor.
///
/// Level-triggered keeps the connection code simple and correct: a connection that stops reading for
/// backpressure just drops `EPOLLIN` from its interest and is woken again when it asks for it back.
final class Epoll {
    static let readable = UInt32(EPOLLIN.rawValue)
    static let writable = UInt32(EPOLLOUT.rawValue)
    static let hangup = UInt32(EPOLLHUP.rawValue) | UInt32(EPOLLERR.rawValue)

    let fd: Int32

    init() throws(SystemError) {
        fd = try syscallChecked("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    deinit { close(fd) }

    func add(_ target: Int32, events: UInt32) throws(SystemError) {
        try control(EPOLL_CTL_ADD, target, events)
    }

    func modify(_ target: Int32, events: UInt32) throws(SystemError) {
        try control(EPOLL_CTL_MOD, target, events)
    }

    func remove(_ target: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, target, &event)
    }

    private func control(_ operation: Int32, _ target: Int32, _ events: UInt32) throws(SystemError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = target
        try syscallChecked("epoll_ctl") { epoll_ctl(fd, operation, target, &event) }
    }

    /// Waits up to `timeout` milliseconds; an interrupted wait returns no events rather than an error,
    /// since the loop simply goes round again.
    func wait(into events: UnsafeMutableBufferPointer<epoll_event>, timeout: Int32) -> Int {
        let count = epoll_wait(fd, events.baseAddress, Int32(events.count), timeout)
        return count < 0 ? 0 : Int(count)
    }
}
