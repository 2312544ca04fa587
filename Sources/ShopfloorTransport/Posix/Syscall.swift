#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The outcome of a non-blocking I/O call: done, or the kernel asked us to wait for readiness.
enum IOResult<Value> {
    case processed(Value)
    case wouldBlock
}

/// Every system call of the transport goes through here, so `errno` is handled in one place:
/// `EINTR` is retried, `EAGAIN`/`EWOULDBLOCK` become ``IOResult/wouldBlock``, and anything else throws
/// ``SystemError`` with the call's name.
///
/// `@inline(never)` keeps `errno` read right after the call, before ARC or another call can clobber it
/// (the same reason swift-nio gives in `System.swift`).
@inline(never)
func syscall<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .processed(result) }
        let error = shopfloor_errno()
        switch error {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        default: throw SystemError(call: call, errno: error)
        }
    }
}

/// As ``syscall(_:_:)`` for calls that are never expected to block.
@inline(never)
@discardableResult
func syscallChecked<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = shopfloor_errno()
        if error == EINTR { continue }
        throw SystemError(call: call, errno: error)
    }
}
