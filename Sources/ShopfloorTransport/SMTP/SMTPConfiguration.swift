/// Where and how to hand mail over: a relay's host and port, how TLS is used, and optional credentials.
///
/// Written as a URL so one setting carries it all:
///
///     smtp://[user[:password]@]host[:port][?tls=required|optional|none]   port 587, STARTTLS required
///     smtps://[user[:password]@]host[:port]                                port 465, TLS from the start
///
/// `tls=optional` uses STARTTLS when the server offers it; `tls=none` never does (a relay on the same
/// host) and so takes no credentials. User and password are percent-decoded. The user information is
/// everything before the URL's last `@`, so an unencoded `/`, `?`, `#` or `@` in a password still
/// parses, and never leaks into the host or an error message. ``description`` leaves the password out.
public struct SMTPConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected.
    public enum Security: Sendable, Equatable {
        /// Plain connection upgraded by STARTTLS (RFC 3207); a server that does not offer it is refused.
        case startTLS
        /// STARTTLS when the server offers it, plain otherwise; credentials still only go over TLS.
        case startTLSIfOffered
        /// No TLS (a local relay); credentials are refused.
        case none
        /// TLS from the first byte (RFC 8314 §3.3, `smtps`).
        case implicitTLS
    }

    public static let submissionPort = 587
    public static let implicitTLSPort = 465

    public let host: String
    public let port: Int
    public let security: Security
    public let credentials: SMTPCredentials?

    /// A configuration given in parts; ``SMTPClient`` refuses to send credentials without TLS whatever
    /// `security` says.
    public init(host: String, port: Int? = nil, security: Security = .startTLS, credentials: SMTPCredentials? = nil) {
        self.host = host
        self.port = port ?? (security == .implicitTLS ? Self.implicitTLSPort : Self.submissionPort)
        self.security = security
        self.credentials = credentials
    }

    public init(url: String) throws(SMTPConfigurationError) {
        guard let schemeEnd = url.firstRange(of: "://") else { throw .malformed("expected smtp://host or smtps://host") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "smtp" || scheme == "smtps" else { throw .unsupportedScheme(scheme) }
        var rest = url[schemeEnd.upperBound...]

        var credentials: SMTPCredentials?
        if let at = rest.lastIndex(of: "@") {
            credentials = try Self.credentials(from: rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let (host, port) = try Self.hostAndPort(rest[..<authorityEnd])
        rest = rest[authorityEnd...]
        if rest.contains("#") { throw .malformed("a fragment is not allowed") }
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        guard rest[..<queryStart].isEmpty || rest[..<queryStart] == "/" else { throw .unexpectedPath }

        var mode: Substring?
        if queryStart < rest.endIndex {
            for parameter in rest[rest.index(after: queryStart)...].split(separator: "&", omittingEmptySubsequences: false) {
                let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts[0] == "tls", parts.count == 2, mode == nil else { throw .unsupportedParameter(String(parts[0])) }
                mode = parts[1]
            }
        }

        let security: Security
        switch (scheme, mode) {
        case ("smtps", nil): security = .implicitTLS
        case ("smtp", nil), ("smtp", "required"): security = .startTLS
        case ("smtp", "optional"): security = .startTLSIfOffered
        case ("smtp", "none"): security = .none
        default: throw .invalidTLSMode(String(mode ?? ""))
        }
        if security == .none, credentials != nil { throw .credentialsWithoutTLS }
        self.init(host: host, port: port, security: security, credentials: credentials)
    }

    /// The URL this configuration reads as, without the password.
    public var description: String {
        let scheme = security == .implicitTLS ? "smtps" : "smtp"
        let user = credentials.map { "\(Self.percentEncoded($0.user))@" } ?? ""
        let host = host.contains(":") ? "[\(host)]" : host
        let query = switch security {
        case .startTLS, .implicitTLS: ""
        case .startTLSIfOffered: "?tls=optional"
        case .none: "?tls=none"
        }
        return "\(scheme)://\(user)\(host):\(port)\(query)"
    }

    private static func credentials(from userInfo: Substring) throws(SMTPConfigurationError) -> SMTPCredentials {
        guard let colon = userInfo.firstIndex(of: ":") else { throw .invalidCredentials("password missing") }
        let user = try percentDecoded(userInfo[..<colon], field: "user name")
        let password = try percentDecoded(userInfo[userInfo.index(after: colon)...], field: "password")
        guard !user.isEmpty else { throw .invalidCredentials("user name missing") }
        guard !password.isEmpty else { throw .invalidCredentials("password missing") }
        return SMTPCredentials(user: user, password: password)
    }

    private static func hostAndPort(_ authority: Substring) throws(SMTPConfigurationError) -> (String, Int?) {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidHost(String(authority)) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost(String(authority)) }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw .invalidHost(String(host))
            }
        } else {
            host = authority
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            }
            let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "." || c == "_") }
            guard !host.isEmpty, host.count <= 253, host.allSatisfy(allowed) else { throw .invalidHost(String(host)) }
        }
        guard let portText else { return (String(host), nil) }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), (1...65535).contains(port) else {
            throw .invalidPort(String(portText))
        }
        return (String(host), port)
    }

    private static func percentDecoded(_ text: Substring, field: String) throws(SMTPConfigurationError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .invalidCredentials("\(field) is not valid percent-encoding")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .invalidCredentials("\(field) is not UTF-8")
        }
        guard !bytes.contains(0) else { throw .invalidCredentials("\(field) holds a NUL") }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// RFC 3986 unreserved characters stay; everything else is `%XX`.
    private static func percentEncoded(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(contentsOf: [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
