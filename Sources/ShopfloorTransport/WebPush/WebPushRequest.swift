/// One push message as the HTTP request that delivers it to a push service (RFC 8030 §5): method,
/// URL, header fields and encrypted body, ready for an HTTP client. Building it sends nothing.
///
/// The header fields are `TTL`, `Urgency`, `Topic` (when given), `Content-Encoding: aes128gcm`,
/// `Content-Type: application/octet-stream` and the VAPID `Authorization`. Framing (`Host`,
/// `Content-Length`) is the client's, which knows how it sends the body.
public struct WebPushRequest: Sendable {
    public let method: String
    public let url: String
    /// The endpoint, taken apart, for the client to connect and write the request line.
    public let endpoint: WebPushEndpoint
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    /// How long the VAPID token stays valid: half the 24 hours RFC 8292 §2 allows, so a push service
    /// whose clock runs ahead of ours still accepts it.
    public static let vapidValidity: Int64 = 12 * 60 * 60

    /// Encrypts `payload` for `keys` and signs a VAPID token for the endpoint's origin.
    ///
    /// - Parameters:
    ///   - ttl: seconds the push service keeps the message for an offline user agent (RFC 8030 §5.2);
    ///     0 means deliver now or never.
    ///   - topic: replaces an undelivered message with the same topic (RFC 8030 §5.4); at most 32
    ///     base64url characters.
    ///   - now: Unix seconds, from the caller's clock.
    public init(
        endpoint: String, keys: WebPushSubscriptionKeys, payload: [UInt8], ttl: Int, urgency: WebPushUrgency = .normal,
        topic: String? = nil, vapid: VAPID, now: Int64
    ) throws(WebPushError) {
        let parsed = try WebPushEndpoint(endpoint)
        guard ttl >= 0 else { throw .invalidTTL(ttl) }
        if let topic {
            guard (1...32).contains(topic.utf8.count), topic.utf8.allSatisfy(Self.isBase64URLCharacter) else { throw .invalidTopic(topic) }
        }
        let authorization = try vapid.authorization(for: endpoint, expiresAt: now + Self.vapidValidity, now: now)
        var headers: [(name: String, value: String)] = [("TTL", String(ttl)), ("Urgency", urgency.rawValue)]
        if let topic { headers.append(("Topic", topic)) }
        headers += [
            ("Content-Encoding", "aes128gcm"),
            ("Content-Type", "application/octet-stream"),
            ("Authorization", authorization),
        ]
        self.method = "POST"
        self.url = endpoint
        self.endpoint = parsed
        self.headers = headers
        self.body = try WebPushEncryptor.encrypt(payload, for: keys)
    }

    private static func isBase64URLCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
