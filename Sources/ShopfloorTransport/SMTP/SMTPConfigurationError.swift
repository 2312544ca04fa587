/// Why an SMTP configuration (its URL, or a client's settings) was refused.
///
/// No case carries a user name or password, or any part of the URL before its last `@`.
public enum SMTPConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not of the form `scheme://host…`.
    case malformed(String)
    /// A scheme other than `smtp` and `smtps`.
    case unsupportedScheme(String)
    /// User name or password missing, badly percent-encoded, or holding a NUL (which AUTH PLAIN uses
    /// as its separator); the reason names the problem, never the value.
    case invalidCredentials(String)
    /// Credentials with `?tls=none`: they would go out in the clear.
    case credentialsWithoutTLS
    case invalidHost(String)
    case invalidPort(String)
    /// A path after the host: an SMTP URL has none.
    case unexpectedPath
    /// A query parameter other than `tls`, or `tls` given twice.
    case unsupportedParameter(String)
    /// `tls=` with a value other than `required`, `optional` or `none`, or any `tls=` on `smtps`.
    case invalidTLSMode(String)
    /// The client's EHLO name is not a domain or an address literal (RFC 5321 §4.1.1.1).
    case invalidLocalName(String)
    /// The default TLS client context could not be made.
    case tlsContext(TLSError)

    public var description: String {
        switch self {
        case .malformed(let reason): "malformed SMTP URL: \(reason)"
        case .unsupportedScheme(let scheme): "unsupported scheme \(scheme.debugDescription): use smtp or smtps"
        case .invalidCredentials(let reason): "invalid credentials in SMTP URL: \(reason)"
        case .credentialsWithoutTLS: "credentials with tls=none would be sent in the clear"
        case .invalidHost(let host): "invalid host \(host.debugDescription)"
        case .invalidPort(let port): "invalid port \(port.debugDescription)"
        case .unexpectedPath: "an SMTP URL has no path"
        case .unsupportedParameter(let name): "unsupported parameter \(name.debugDescription): only tls is known"
        case .invalidTLSMode(let mode): "invalid tls mode \(mode.debugDescription): use required, optional or none (smtp only)"
        case .invalidLocalName(let name): "invalid local name \(name.debugDescription)"
        case .tlsContext(let error): "cannot make the TLS context: \(error)"
        }
    }
}
