#if canImport(Glibc)
import Glibc
#endif

/// Which addresses the client may connect to, decided on every connect for every address the host
/// resolved to, just before `connect(2)` (see ``ClientConnection/connect(host:port:timeout:admits:)``).
///
/// Webhook URLs come from users: without ``publicOnly`` one could point at `127.0.0.1:8080/admin`,
/// a cloud metadata service at `169.254.169.254` or a database on the private network, and have the
/// server make the request for them (server-side request forgery). Vetting the resolved address, not
/// the name, catches names that resolve to such addresses, and vetting it on each connect catches a
/// name whose answer changes between a check and the connection (DNS rebinding).
public enum HTTPClientAddressPolicy: Sendable, Equatable {
    /// Every address: for tests, and for services on the operator's own network.
    case any
    /// Only addresses routable on the public internet. Refused: IPv4 `0.0.0.0/8` (unspecified),
    /// `10/8`, `172.16/12`, `192.168/16` (private), `100.64/10` (carrier-grade NAT), `127/8`
    /// (loopback), `169.254/16` (link-local), `224/4` (multicast) and `240/4` (reserved, broadcast);
    /// IPv6 `::` and `::1`, `fc00::/7` (unique local), `fe80::/10` (link-local), `fec0::/10`
    /// (deprecated site-local), `ff00::/8` (multicast), and any IPv4 address above when embedded as
    /// IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96` or NAT64 `64:ff9b::/96`.
    case publicOnly

    func admits(_ address: SocketAddress) -> Bool {
        switch self {
        case .any: true
        case .publicOnly: Self.isPublic(address.addressBytes)
        }
    }

    /// Whether a URL's host, as written, names an address this policy admits: an IP literal (IPv6 in
    /// brackets or not) is judged as its address and `localhost` (and names under it, RFC 6761) as
    /// loopback; any other name is admitted here, since only its resolution, checked on every connect,
    /// says where it leads. For refusing what is plainly wrong when a URL is first given.
    public func admits(literalHost host: String) -> Bool {
        guard self == .publicOnly else { return true }
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let lowered = name.lowercased()
        if lowered == "localhost" || lowered.hasSuffix(".localhost") || lowered == "localhost." { return false }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            return Self.isPublic(withUnsafeBytes(of: &v4) { Array($0) })
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return Self.isPublic(withUnsafeBytes(of: &v6) { Array($0) })
        }
        return true
    }

    /// Whether `bytes` (4 for IPv4, 16 for IPv6, network order) is an address ``publicOnly`` admits.
    static func isPublic(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return isPublicIPv4(bytes[0], bytes[1]) }
        precondition(bytes.count == 16, "an IP address is 4 or 16 bytes")
        let embedsIPv4 = bytes[0..<10].allSatisfy { $0 == 0 } && (bytes[10..<12].allSatisfy { $0 == 0 } || bytes[10..<12].allSatisfy { $0 == 0xFF })
        let nat64 = bytes[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0])
        if embedsIPv4 || nat64 {
            // `::` and `::1` fall in `::/96` too, and embed 0.0.0.0 and 0.0.0.1, which are refused.
            return isPublicIPv4(bytes[12], bytes[13])
        }
        switch bytes[0] {
        case 0xFC, 0xFD, 0xFF: return false
        case 0xFE: return bytes[1] & 0xC0 != 0x80 && bytes[1] & 0xC0 != 0xC0
        default: return true
        }
    }

    /// By the first two bytes, which decide every range refused.
    private static func isPublicIPv4(_ first: UInt8, _ second: UInt8) -> Bool {
        switch first {
        case 0, 10, 127: false
        case 100: second & 0xC0 != 64
        case 169: second != 254
        case 172: second & 0xF0 != 16
        case 192: second != 168
        case 224...: false
        default: true
        }
    }
}
