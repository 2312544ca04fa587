public import ShopfloorCrypto

/// Why a Web Push message could not be built. Nothing here is sent: these are the sender's own
/// refusals, before any request exists. Strings are quoted escaped (`debugDescription`) in
/// `description`, so a hostile endpoint cannot break a log line.
public enum WebPushError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A subscription's `p256dh` or `auth` (RFC 8291 §3.1) is not base64url, has the wrong length,
    /// or is not a point on P-256.
    case invalidSubscriptionKey(field: String, error: CryptoError)
    /// More plaintext than one 4096-byte record holds (RFC 8291 §4).
    case payloadTooLarge(size: Int, limit: Int)
    /// Not an absolute `https:` or `http:` URL with a host, in printable ASCII, without user
    /// information or a fragment.
    case invalidEndpoint(String)
    /// A VAPID subject that is not a `mailto:` or `https:` URI (RFC 8292 §2.1).
    case invalidSubject(String)
    /// A VAPID expiry not after `now`, or more than 24 hours after it (RFC 8292 §2).
    case invalidExpiry(expiresAt: Int64, now: Int64)
    /// A negative time to live (RFC 8030 §5.2 takes delta-seconds).
    case invalidTTL(Int)
    /// A topic that is empty, longer than 32 characters, or outside the base64url alphabet (RFC 8030 §5.4).
    case invalidTopic(String)
    /// The cryptography failed on valid input (an OpenSSL error).
    case crypto(CryptoError)

    public var description: String {
        switch self {
        case .invalidSubscriptionKey(let field, let error): "invalid subscription key \(field): \(error)"
        case .payloadTooLarge(let size, let limit): "payload of \(size) bytes exceeds the \(limit)-byte limit of one record"
        case .invalidEndpoint(let endpoint): "invalid push endpoint \(endpoint.debugDescription)"
        case .invalidSubject(let subject): "VAPID subject \(subject.debugDescription) is not a mailto: or https: URI"
        case .invalidExpiry(let expiresAt, let now): "VAPID expiry \(expiresAt) is not within 24 hours after \(now)"
        case .invalidTTL(let ttl): "invalid TTL \(ttl)"
        case .invalidTopic(let topic): "invalid topic \(topic.debugDescription)"
        case .crypto(let error): error.description
        }
    }
}
