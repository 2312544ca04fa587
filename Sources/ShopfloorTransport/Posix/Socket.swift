#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A non-blocking stream socket: a file descriptor and the calls the transport makes on it.
///
/// A value, not an owner: whoever holds the descriptor (a listener or a connection) closes it once.
struct Socket: Sendable, Hashable {
    let fd: Int32

    /// Makes a listening socket bound to `address`. With `reusePort` several loops each bind the same
    /// port and the kernel spreads new connections across them (`SO_REUSEPORT`).
    static func makeListening(address: SocketAddress, reusePort: Bool, backlog: Int32) throws(SystemError) -> Socket {
        let fd = try syscallChecked("socket") {
            Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        let socket = Socket(fd: fd)
        do throws(SystemError) {
            try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1) }
            if address.family == AF_INET6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            _ = try address.withSockaddr { pointer, length throws(SystemError) in
                try syscallChecked("bind(\(address))") { bind(fd, pointer, length) }
            }
            try syscallChecked("listen") { listen(fd, backlog) }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws(SystemError) {
        var value = value
        try syscallChecked("setsockopt") { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Accepts one pending connection, already non-blocking, with the peer's address (`nil` for a
    /// family other than IPv4 and IPv6), or `nil` when none is waiting.
    func accept() throws(SystemError) -> (socket: Socket, peer: IPAddress?)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let result = try withUnsafeMutableBytes(of: &storage) { raw throws(SystemError) in
            try syscall("accept4") { accept4(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length, flags) }
        }
        switch result {
        case .processed(let client): return (Socket(fd: client), IPAddress(storage: storage))
        case .wouldBlock: return nil
        }
    }

    /// Reads into `buffer`; `.processed(0)` is end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try syscall("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try syscall("send") { send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// The address this socket is bound to, which tells the real port after binding port 0.
    func localAddress() throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutableBytes(of: &storage) { raw throws(SystemError) in
            try syscallChecked("getsockname") {
                getsockname(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
            }
        }
        return SocketAddress(storage: storage, length: length)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
