/// Why ``HTTPClient/execute(_:)`` returned no response.
///
/// Each case names one failure precisely and leaves deciding what to do about it (retry, give up,
/// alert) to the caller: a webhook sender and a push sender judge the same failure differently.
/// Texts never include the URL or header values, which may carry secrets (a push endpoint is a
/// capability URL); only hosts, addresses and reasons.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Which deadline passed.
    public enum TimeoutKind: Sendable, Equatable {
        /// Reaching the server, TLS handshake included (``HTTPClientConfiguration/connectTimeout``).
        case connect
        /// The peer made no progress for ``HTTPClientConfiguration/readTimeout``: no response byte
        /// came, or the socket took none of the request.
        case read
        /// The whole request, connecting and any retry included, outlasted its total timeout.
        case total
    }

    /// The text is not an absolute `http` or `https` URL this client accepts; `reason` says which rule
    /// it broke.
    case invalidURL(reason: String)
    /// The request cannot be written safely: a field name or value with bytes that could end the
    /// field (CR, LF, NUL, other controls), a field the client writes itself, or a method it cannot
    /// carry through (CONNECT).
    case invalidRequest(reason: String)
    /// The address policy refused every address `host` resolved to, so nothing was connected to.
    case addressRefused(host: String, addresses: [String])
    /// The host name did not resolve.
    case dnsFailure(host: String, reason: String)
    /// No connection could be made; the error of the last address tried (`ECONNREFUSED`, `EHOSTUNREACH`…).
    case connectFailed(SystemError)
    /// The TLS handshake or a TLS record failed; `verification` says why the server's certificate was
    /// refused when that was the reason (`hostname mismatch`, `certificate has expired`,
    /// `self-signed certificate`…), as OpenSSL words it.
    case tlsFailure(TLSError, verification: String?)
    /// A deadline passed; the connection was closed.
    case timeout(TimeoutKind)
    /// The response broke HTTP/1.1's rules or the configured limits on its head.
    case malformedResponse(HTTPResponseParseError)
    /// The server closed or reset the connection before the whole response arrived (after the one
    /// retry a reused connection gets).
    case connectionClosedEarly
    /// A system call on an established connection failed in a way other than the peer closing it.
    case system(SystemError)
    /// ``HTTPClient/shutdown()`` was called before this request started.
    case shutDown

    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid URL: \(reason)"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        case .addressRefused(let host, let addresses):
            "\(host) resolves only to addresses the policy refuses (\(addresses.joined(separator: ", ")))"
        case .dnsFailure(let host, let reason): "cannot resolve \(host): \(reason)"
        case .connectFailed(let error): error.description
        case .tlsFailure(let error, let verification):
            verification.map { "certificate verification failed: \($0) (\(error))" } ?? "TLS failed: \(error)"
        case .timeout(.connect): "connect timed out"
        case .timeout(.read): "read timed out"
        case .timeout(.total): "request timed out"
        case .malformedResponse(let error): "malformed response: \(error)"
        case .connectionClosedEarly: "connection closed before the response was complete"
        case .system(let error): error.description
        case .shutDown: "the HTTP client is shut down"
        }
    }
}
