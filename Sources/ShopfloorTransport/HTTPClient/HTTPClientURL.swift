#if canImport(Glibc)
import Glibc
#endif

/// An absolute `http` or `https` URL, parsed strictly so that what reaches the wire can only be the
/// request target and `Host` it names.
///
/// Every byte must be printable ASCII: a space, CR, LF or any control character, which could end the
/// request line and start a field of an attacker's choosing, is refused outright, as are non-ASCII
/// bytes (percent-encode them; IDNs go in their `xn--` form). Also refused: user information
/// (`user:password@`, which would otherwise go nowhere or to a proxy's log), fragments (never sent, so
/// their presence means a mistake), and path or query bytes outside RFC 3986's set. The host is a name,
/// an IPv4 literal or an IPv6 literal in brackets (no zone ID); whatever it resolves to is vetted later,
/// on each connect, by ``HTTPClientAddressPolicy``.
public struct HTTPClientURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable {
        case http
        case https

        var defaultPort: Int { self == .http ? 80 : 443 }
    }

    public let scheme: Scheme
    /// A lowercased name or IPv4 literal, or an IPv6 literal without its brackets.
    public let host: String
    public let port: Int
    /// The request target in origin form (RFC 9112 §3.2.1): the path, `/` at least, and the query.
    public let pathAndQuery: String

    public init(_ text: String) throws(HTTPClientError) {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidURL(reason: "contains a space, a control character or a non-ASCII byte")
        }
        guard !bytes.contains(UInt8(ascii: "#")) else { throw .invalidURL(reason: "has a fragment") }
        guard let separator = Self.firstRange(of: Array("://".utf8), in: bytes),
              let scheme = Scheme(rawValue: String(decoding: bytes[..<separator].map(Self.lowercased), as: UTF8.self))
        else { throw .invalidURL(reason: "the scheme must be http or https") }
        let rest = bytes[(separator + 3)...]
        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains(UInt8(ascii: "@")) else { throw .invalidURL(reason: "has user information") }

        let hostPart: ArraySlice<UInt8>
        let portPart: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else {
                throw .invalidURL(reason: "an IPv6 literal lacks its closing bracket")
            }
            hostPart = authority[(authority.startIndex + 1)..<close]
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(decoding: hostPart, as: UTF8.self), &address) == 1 else {
                throw .invalidURL(reason: "the IPv6 literal is not valid")
            }
            let after = authority[(close + 1)...]
            guard after.isEmpty || after.first == UInt8(ascii: ":") else {
                throw .invalidURL(reason: "unexpected characters after the IPv6 literal")
            }
            portPart = after.isEmpty ? nil : after.dropFirst()
        } else {
            let colon = authority.firstIndex(of: UInt8(ascii: ":"))
            hostPart = authority[..<(colon ?? authority.endIndex)]
            portPart = colon.map { authority[($0 + 1)...] }
            guard !hostPart.isEmpty else { throw .invalidURL(reason: "has no host") }
            guard hostPart.allSatisfy(Self.isHostCharacter) else {
                throw .invalidURL(reason: "the host may hold only letters, digits, '-', '.' and '_'")
            }
        }

        var port = scheme.defaultPort
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy(\.isDigit),
                  let value = Int(String(decoding: portPart, as: UTF8.self)), (1...65535).contains(value)
            else { throw .invalidURL(reason: "the port must be a number from 1 to 65535") }
            port = value
        }

        let target = rest[authorityEnd...]
        guard Self.isValidTarget(target) else {
            throw .invalidURL(reason: "the path or query holds a character that must be percent-encoded")
        }
        self.scheme = scheme
        self.host = String(decoding: hostPart.map(Self.lowercased), as: UTF8.self)
        self.port = port
        self.pathAndQuery = target.first == UInt8(ascii: "/") ? String(decoding: target, as: UTF8.self) : "/" + String(decoding: target, as: UTF8.self)
    }

    /// The `Host` field's value (RFC 9110 §7.2): the host, bracketed if IPv6, and the port unless it is
    /// the scheme's default.
    var authority: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return port == scheme.defaultPort ? host : "\(host):\(port)"
    }

    /// Where a connection for this URL goes, which is what keep-alive connections are shared by.
    var origin: HTTPOrigin { HTTPOrigin(scheme: scheme, host: host, port: port) }

    public var description: String { "\(scheme.rawValue)://\(authority)\(pathAndQuery)" }

    /// `unreserved`, `sub-delims` and the other characters RFC 3986 lets a path or query hold as they are.
    private static let targetPunctuation = Array("-._~!$&'()*+,;=:@/?".utf8)

    private static func isHostCharacter(_ byte: UInt8) -> Bool {
        byte.isASCIILetter || byte.isDigit || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
    }

    /// `*( pchar / "/" / "?" )` with `pct-encoded` checked (RFC 3986 §3.3, §3.4).
    private static func isValidTarget(_ target: ArraySlice<UInt8>) -> Bool {
        var index = target.startIndex
        while index < target.endIndex {
            let byte = target[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < target.endIndex, target[index + 1].hexValue != nil, target[index + 2].hexValue != nil else { return false }
                index += 3
                continue
            }
            guard byte.isASCIILetter || byte.isDigit || targetPunctuation.contains(byte) else { return false }
            index += 1
        }
        return true
    }

    private static func firstRange(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return (0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

extension UInt8 {
    fileprivate var isASCIILetter: Bool {
        (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "z")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z"))
    }
}
