import Foundation
import ShopfloorCrypto

/// Signing per Standard Webhooks: the secret is `whsec_` and the base64 of its key bytes; a delivery's
/// signature is `v1,` and the base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`.
/// Several signatures (one per secret during a rotation) go in one header, separated by spaces, and a
/// receiver accepts the delivery when any of them verifies.
public enum WebhookSignature {
    /// Bytes of key in a new secret (the scheme allows 24 to 64).
    static let keyLength = 32
    static let prefix = "whsec_"

    /// A new random secret, `whsec_…`.
    public static func makeSecret() -> String {
        prefix + Data(SecureRandom.bytes(keyLength)).base64EncodedString()
    }

    /// The key bytes of a `whsec_…` secret, or `nil` when it is not one.
    public static func key(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix(prefix), let data = Data(base64Encoded: String(secret.dropFirst(prefix.count))), !data.isEmpty else {
            return nil
        }
        return Array(data)
    }

    /// The `webhook-signature` header's value for `body` sent as `id` at `timestamp` (Unix seconds),
    /// signed with each of `secrets` in turn.
    public static func header(id: String, timestamp: Int64, body: [UInt8], secrets: [String]) -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return secrets.compactMap(key(of:)).map { key in
            "v1," + Data(Digest.hmacSHA256(key: key, message: signed)).base64EncodedString()
        }.joined(separator: " ")
    }
}
