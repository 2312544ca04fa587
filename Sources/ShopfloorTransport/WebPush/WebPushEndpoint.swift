/// A push subscription's endpoint URL (RFC 8030 §4), checked and taken apart: the origin a VAPID token
/// names as its audience (RFC 8292 §2), and host, port and target for the request.
///
/// The URL comes from a browser through our API, so it is untrusted: it must be an absolute `https:` or
/// `http:` URL in printable ASCII with no spaces (it ends up on a request line), with a host, without
/// user information (a password has no business in it) or a fragment. Browsers give `https:` endpoints;
/// `http:` is accepted for a push service on loopback in tests, and refusing it in production is the
/// sender's configuration, not this parser's.
public struct WebPushEndpoint: Sendable, Hashable {
    /// The URL as given.
    public let url: String
    /// `https` or `http`, lowercase.
    public let scheme: String
    /// The host, lowercase; an IPv6 literal keeps its brackets.
    public let host: String
    /// The port, the scheme's default when the URL names none.
    public let port: Int
    /// Path and query, `/` when the URL has neither: the request target (RFC 9112 §3.2.1).
    public let target: String

    public init(_ url: String) throws(WebPushError) {
        guard url.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw .invalidEndpoint(url) }
        guard let separator = url.firstRange(of: "://") else { throw .invalidEndpoint(url) }
        let scheme = url[..<separator.lowerBound].lowercased()
        let defaultPort: Int
        switch scheme {
        case "https": defaultPort = 443
        case "http": defaultPort = 80
        default: throw .invalidEndpoint(url)
        }
        let rest = url[separator.upperBound...]
        guard !rest.contains("#") else { throw .invalidEndpoint(url) }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@") else { throw .invalidEndpoint(url) }

        // The port follows the last colon, unless that colon is inside an IPv6 literal's brackets.
        var host = authority
        var port = defaultPort
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            host = authority[..<colon]
            let digits = authority[authority.index(after: colon)...]
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits),
                  (1...65_535).contains(number)
            else { throw .invalidEndpoint(url) }
            port = number
        }
        // A name or IPv4 address (RFC 3986 §3.2.2, the characters DNS names use), or an IPv6 literal.
        let isHost: Bool
        if host.hasPrefix("["), host.hasSuffix("]"), host.count > 2 {
            isHost = host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        } else {
            isHost = !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }
        }
        guard isHost else { throw .invalidEndpoint(url) }

        self.url = url
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        let target = rest[authorityEnd...]
        self.target = target.hasPrefix("/") ? String(target) : "/" + target
    }

    /// The ASCII serialisation of the URL's origin (RFC 6454 §6.2): scheme, host, and the port only
    /// when it is not the scheme's default. What a VAPID token's `aud` must be.
    public var origin: String {
        let defaultPort = scheme == "https" ? 443 : 80
        return "\(scheme)://\(host)" + (port == defaultPort ? "" : ":\(port)")
    }
}
