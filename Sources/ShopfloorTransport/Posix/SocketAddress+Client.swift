#if canImport(Glibc)
import Glibc
#endif
import CLinux

extension SocketAddress {
    /// Every IPv4 and IPv6 address `host` resolves to for an outbound stream connection, in the order
    /// `getaddrinfo` gives them (RFC 6724's preference, as the system configures it).
    static func resolveAll(host: String, port: Int) throws(ClientConnectionError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0 else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(shopfloor_errno())) : String(cString: gai_strerror(status))
            throw .resolution(host: host, reason: reason)
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var next = result
        while let info = next {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
            }
            addresses.append(SocketAddress(storage: storage, length: info.pointee.ai_addrlen))
            next = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .resolution(host: host, reason: "no addresses") }
        return addresses
    }

    /// The IP address alone, in network byte order: 4 bytes for IPv4, 16 for IPv6.
    var addressBytes: [UInt8] {
        withUnsafeBytes(of: storage) { raw in
            if family == AF_INET6 {
                return withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
            }
            return withUnsafeBytes(of: raw.load(as: sockaddr_in.self).sin_addr) { Array($0) }
        }
    }
}
