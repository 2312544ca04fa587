public import ShopfloorCrypto

/// The keys a browser's push subscription carries (`PushSubscription.getKey`, RFC 8291 §3.1): the user
/// agent's ECDH public key `p256dh` and the 16-byte authentication secret `auth`.
///
/// Validated when made, so every value of this type can encrypt: the point is on P-256 (a point off it
/// would be an invalid-curve attack on our ephemeral key) and the secret has its length.
public struct WebPushSubscriptionKeys: Sendable, Hashable {
    public let p256dh: P256PublicKey
    public let auth: [UInt8]

    /// RFC 8291 §3.2: "an authentication secret ... 16 octets".
    public static let authLength = 16

    public init(p256dh: P256PublicKey, auth: [UInt8]) throws(WebPushError) {
        guard auth.count == Self.authLength else {
            throw .invalidSubscriptionKey(field: "auth", error: .invalidLength(of: "auth", expected: Self.authLength, actual: auth.count))
        }
        self.p256dh = p256dh
        self.auth = auth
    }

    /// The keys as a subscription's JSON gives them (`keys.p256dh`, `keys.auth`): base64url.
    public init(p256dh: String, auth: String) throws(WebPushError) {
        let point: P256PublicKey
        do {
            point = try P256PublicKey(uncompressedPoint: Base64URL.decode(p256dh))
        } catch {
            throw .invalidSubscriptionKey(field: "p256dh", error: error)
        }
        let secret: [UInt8]
        do {
            secret = try Base64URL.decode(auth)
        } catch {
            throw .invalidSubscriptionKey(field: "auth", error: error)
        }
        try self.init(p256dh: point, auth: secret)
    }
}
