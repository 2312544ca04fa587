#if canImport(Glibc)
import Glibc
#endif

/// A client's IP address, without a port: the key of per-address limits. IPv4 is held as its
/// IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so one address has one key whichever socket family the
/// listener has, and a network (``IPNetwork``) matches either form.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The 128 bits, most significant first.
    let high: UInt64
    let low: UInt64

    private static let mappedPrefix: UInt64 = 0x0000_FFFF_0000_0000

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses `192.0.2.1`, `2001:db8::1` or `[2001:db8::1]`; `nil` for anything else (names, ports, zones).
    public init?(_ text: some StringProtocol) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let string = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, string, &v4) == 1 {
            self.init(ipv4: UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, string, &v6) == 1 else { return nil }
        self.init(ipv6: v6)
    }

    init(ipv4 value: UInt32) {
        self.init(high: 0, low: Self.mappedPrefix | UInt64(value))
    }

    init(ipv6 address: in6_addr) {
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        self.init(high: high, low: low)
    }

    /// The address of a peer as `accept` reports it; `nil` for a family other than IPv4 and IPv6.
    init?(storage: sockaddr_storage) {
        let family = Int32(storage.ss_family)
        let address: IPAddress? = withUnsafeBytes(of: storage) { raw in
            if family == AF_INET { return IPAddress(ipv4: UInt32(bigEndian: raw.load(as: sockaddr_in.self).sin_addr.s_addr)) }
            if family == AF_INET6 { return IPAddress(ipv6: raw.load(as: sockaddr_in6.self).sin6_addr) }
            return nil
        }
        guard let address else { return nil }
        self = address
    }

    /// Whether this is an IPv4 address (held mapped).
    public var isIPv4: Bool { high == 0 && low >> 32 == Self.mappedPrefix >> 32 }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if isIPv4 {
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: low).bigEndian)
            _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        } else {
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for index in 0..<8 { raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index)) }
                for index in 0..<8 { raw[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index)) }
            }
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address range in CIDR form (`10.0.0.0/8`, `2001:db8::/32`, or one address without a prefix
/// length): the proxies whose forwarding headers are believed (`--trusted-proxies`).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    /// Leading bits that must match, counted on the IPv6 form (an IPv4 `/8` is `/104` here).
    let prefixLength: Int

    /// Parses `address[/bits]`; `nil` for a malformed address or a prefix length out of range.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let width = address.isIPv4 ? 32 : 128
        var bits = width
        if parts.count == 2 {
            guard parts[1].utf8.count <= 3, let parsed = Int(parts[1]), (0...width).contains(parsed) else { return nil }
            bits = parsed
        }
        let length = bits + (128 - width)
        self.prefixLength = length
        // The network's own bits only, so `10.1.2.3/8` and `10.0.0.0/8` are one network.
        self.address = IPAddress(high: address.high & Self.mask(length, word: 0), low: address.low & Self.mask(length, word: 1))
    }

    public func contains(_ other: IPAddress) -> Bool {
        other.high & Self.mask(prefixLength, word: 0) == address.high && other.low & Self.mask(prefixLength, word: 1) == address.low
    }

    public var description: String {
        "\(address)/\(address.isIPv4 ? prefixLength - 96 : prefixLength)"
    }

    /// The mask of a prefix over one 64-bit word of the address (0 the high, 1 the low).
    private static func mask(_ length: Int, word: Int) -> UInt64 {
        let bits = min(max(length - 64 * word, 0), 64)
        return bits == 0 ? 0 : ~UInt64(0) << (64 - bits)
    }

    /// Loopback (`127.0.0.0/8`, `::1`): a proxy on the same machine, trusted unless told otherwise.
    public static let loopback: [IPNetwork] = [IPNetwork("127.0.0.0/8")!, IPNetwork("::1")!]
}
