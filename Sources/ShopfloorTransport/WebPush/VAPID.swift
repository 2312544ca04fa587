public import ShopfloorCrypto

/// The application server's identity towards push services (RFC 8292): a P-256 key whose public half
/// browsers were given as `applicationServerKey`, and a contact URI for the push service's operator.
///
/// Each request carries a short-lived JWT signed with the key (ES256), bound to the push service's
/// origin, so a token seen by one push service is useless at another. The caller passes the time, so
/// tokens are reproducible under a test clock, and can reuse one token per origin until it nears expiry.
public struct VAPID: Sendable {
    public let privateKey: P256PrivateKey
    /// `mailto:` or `https:` URI, the JWT's `sub` claim (RFC 8292 §2.1).
    public let subject: String

    /// RFC 8292 §2: "an "exp" (expiry) claim ... MUST NOT be more than 24 hours from the time of the request".
    public static let maximumValidity: Int64 = 24 * 60 * 60

    public init(privateKey: P256PrivateKey, subject: String) throws(WebPushError) {
        let lowercased = subject.lowercased()
        let scheme = ["mailto:", "https:"].first { lowercased.hasPrefix($0) }
        guard let scheme, subject.count > scheme.count, !subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw .invalidSubject(subject) }
        self.privateKey = privateKey
        self.subject = subject
    }

    /// The public key as browsers take it for `applicationServerKey`, and as the `k` parameter carries
    /// it: the uncompressed point in base64url (RFC 8292 §3.2).
    public var publicKey: String {
        Base64URL.encode(privateKey.publicKey.uncompressedPoint)
    }

    /// The `Authorization` header value for a request to `endpoint` (RFC 8292 §3):
    /// `vapid t=<JWT>, k=<public key>`.
    ///
    /// The JWT (RFC 7519) is `{"typ":"JWT","alg":"ES256"}` over `{"aud":…,"exp":…,"sub":…}`, fields in
    /// that order, `aud` the endpoint's origin. `expiresAt` and `now` are Unix seconds; the expiry must
    /// be after `now` and at most 24 hours later.
    public func authorization(for endpoint: String, expiresAt: Int64, now: Int64) throws(WebPushError) -> String {
        let origin = try WebPushEndpoint(endpoint).origin
        guard expiresAt > now, expiresAt - now <= Self.maximumValidity else { throw .invalidExpiry(expiresAt: expiresAt, now: now) }
        let header = #"{"typ":"JWT","alg":"ES256"}"#
        let claims = #"{"aud":\#(Self.jsonString(origin)),"exp":\#(expiresAt),"sub":\#(Self.jsonString(subject))}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let signature: [UInt8]
        do { signature = try privateKey.signature(for: Array(signingInput.utf8)) } catch { throw .crypto(error) }
        return "vapid t=\(signingInput).\(Base64URL.encode(signature)), k=\(publicKey)"
    }

    /// `text` as a JSON string (RFC 8259 §7): quotes and backslashes escaped, the rest as UTF-8. Both
    /// strings that go in have no control characters (the subject is checked, an origin is ASCII).
    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}
