import COpenSSL

/// Why a cryptographic operation refused its input or could not run.
///
/// Bad input (a malformed key from a subscription, a forged tag) is a value a caller handles; an
/// OpenSSL failure on valid input names the call and carries the messages OpenSSL queued for it.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An OpenSSL call failed: its name and the messages from this thread's error queue.
    case openSSL(call: String, messages: [String])
    /// A character outside the base64url alphabet (RFC 4648 §5), misplaced padding, or a length no
    /// encoding has; `position` is the offset of the first offending character.
    case invalidBase64URL(position: Int)
    /// A key, nonce or other fixed-size input of the wrong size.
    case invalidLength(of: String, expected: Int, actual: Int)
    /// Not a usable P-256 private key: the scalar is outside [1, n − 1], or the PEM is not one.
    case invalidPrivateKey(reason: String)
    /// Not an uncompressed point on P-256 (SEC 1 §2.3.4).
    case invalidPublicKey(reason: String)
    /// The AES-GCM tag did not match: the ciphertext, nonce or key is not the one sealed.
    case authenticationFailed

    /// Drains this thread's OpenSSL error queue into an error for `call`.
    ///
    /// Draining matters beyond the message: the queue is per thread, and a leftover entry would make a
    /// later `SSL_get_error` on the same thread misreport a TLS read or write.
    static func openSSL(_ call: String) -> CryptoError {
        .openSSL(call: call, messages: drainErrorQueue())
    }

    /// Empties this thread's OpenSSL error queue, for a failure that is an answer rather than an error
    /// (a signature that does not verify, a point that is not on the curve).
    @discardableResult
    static func drainErrorQueue() -> [String] {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages
    }

    public var description: String {
        switch self {
        case .openSSL(let call, let messages):
            "\(call) failed" + (messages.isEmpty ? "" : ": " + messages.joined(separator: "; "))
        case .invalidBase64URL(let position): "invalid base64url at offset \(position)"
        case .invalidLength(let field, let expected, let actual): "\(field) must be \(expected) bytes, not \(actual)"
        case .invalidPrivateKey(let reason): "invalid P-256 private key: \(reason)"
        case .invalidPublicKey(let reason): "invalid P-256 public key: \(reason)"
        case .authenticationFailed: "AES-GCM authentication failed"
        }
    }
}
