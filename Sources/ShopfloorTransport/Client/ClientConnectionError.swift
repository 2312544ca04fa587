/// Why an outbound connection could not be made or used.
public enum ClientConnectionError: Error, CustomStringConvertible {
    /// `getaddrinfo` found no address for the host.
    case resolution(host: String, reason: String)
    /// The caller's vetting refused every address the host resolved to (``addresses``), so none was
    /// connected to.
    case addressRefused(host: String, addresses: [SocketAddress])
    /// A system call failed; for a connect, the last address tried.
    case system(SystemError)
    /// The operation did not finish before its deadline.
    case timedOut(operation: String)
    /// The peer closed the connection before the expected bytes arrived.
    case closedByPeer
    /// A line grew past the caller's limit before its line feed came.
    case lineTooLong(limit: Int)
    /// The peer sent bytes after the reply that preceded the TLS handshake: plaintext that could have
    /// been injected, refused rather than read as if it came over TLS (RFC 3207 §6).
    case unexpectedInputBeforeTLS
    /// The TLS handshake or a TLS record failed; `verification` says why the peer's certificate was
    /// refused, when that was the reason.
    case tls(TLSError, verification: String?)

    public var description: String {
        switch self {
        case .resolution(let host, let reason): "cannot resolve \(host): \(reason)"
        case .addressRefused(let host, let addresses):
            "\(host) resolves only to refused addresses (\(addresses.map(\.host).joined(separator: ", ")))"
        case .system(let error): error.description
        case .timedOut(let operation): "\(operation) timed out"
        case .closedByPeer: "connection closed by peer"
        case .lineTooLong(let limit): "line longer than \(limit) bytes"
        case .unexpectedInputBeforeTLS: "unexpected bytes before the TLS handshake"
        case .tls(let error, let verification):
            verification.map { "certificate verification failed: \($0) (\(error))" } ?? error.description
        }
    }
}
