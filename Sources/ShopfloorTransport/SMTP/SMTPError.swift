/// Why a message was not delivered, in the terms a caller needs to decide between retrying later and
/// giving up (``isTemporary``).
///
/// Replies keep the server's code and text; nothing here ever carries the password, and the texts
/// name commands, never their arguments, except a rejected recipient's address.
public enum SMTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A 4yz reply (RFC 5321 §4.2.1): try again later. Includes 4yz to a recipient, and 421, after
    /// which the server closes the connection.
    case temporary(code: Int, text: String)
    /// A 5yz reply to anything but a recipient: the message as it is will not be accepted.
    case permanent(code: Int, text: String)
    /// A 5yz reply to `RCPT TO`: a hard bounce for that address. No message was sent to any recipient.
    case recipientRejected(address: String, code: Int, text: String)
    /// The server wants AUTH (530 to `MAIL FROM`) and no credentials were configured.
    case authenticationRequired(code: Int, text: String)
    /// The server refused the credentials (5yz to `AUTH`, usually 535).
    case authenticationFailed(code: Int, text: String)
    /// Credentials are configured but cannot be used: no TLS (they never go out in the clear), or no
    /// mechanism both sides know (PLAIN, LOGIN).
    case authenticationUnsupported(String)
    /// The message needs an extension the server does not offer (`SMTPUTF8` for a non-ASCII address).
    case unsupportedByServer(String)
    /// The server announced a `SIZE` limit (RFC 1870) below the message's size.
    case messageTooLarge(size: Int, limit: Int)
    /// Resolving, connecting, or the connection dropping mid-dialogue.
    case connection(String)
    /// TLS could not be established: STARTTLS required but not offered, a failed handshake, or a
    /// certificate that does not verify or does not name the host.
    case tls(String)
    /// The server did not answer, or did not take our bytes, within the configured timeout.
    case timeout(String)
    /// The server broke the protocol: a malformed or overlong reply, or one that makes no sense here.
    case protocolViolation(String)

    /// Whether the same message may be delivered by trying again later.
    ///
    /// 4yz replies, connection failures and timeouts are; so are TLS failures and protocol violations,
    /// which are more often a passing fault (a restarting relay, a certificate being renewed, a middle
    /// box) than a final answer, and a caller's retry limit still ends them. 5yz replies and problems
    /// only a configuration change can fix are not.
    public var isTemporary: Bool {
        switch self {
        case .temporary, .connection, .tls, .timeout, .protocolViolation: true
        case .permanent, .recipientRejected, .authenticationRequired, .authenticationFailed,
             .authenticationUnsupported, .unsupportedByServer, .messageTooLarge: false
        }
    }

    public var description: String {
        switch self {
        case .temporary(let code, let text): "temporary failure: \(code) \(text)"
        case .permanent(let code, let text): "permanent failure: \(code) \(text)"
        case .recipientRejected(let address, let code, let text): "recipient \(address) rejected: \(code) \(text)"
        case .authenticationRequired(let code, let text): "server requires authentication: \(code) \(text)"
        case .authenticationFailed(let code, let text): "authentication failed: \(code) \(text)"
        case .authenticationUnsupported(let reason): "cannot authenticate: \(reason)"
        case .unsupportedByServer(let reason): "not supported by the server: \(reason)"
        case .messageTooLarge(let size, let limit): "message of \(size) bytes exceeds the server's limit of \(limit)"
        case .connection(let reason): "connection failed: \(reason)"
        case .tls(let reason): "TLS failed: \(reason)"
        case .timeout(let reason): "timed out: \(reason)"
        case .protocolViolation(let reason): "protocol violation: \(reason)"
        }
    }
}
