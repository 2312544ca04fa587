package import ShopfloorCrypto

/// Encrypts a push message for one subscription (RFC 8291) in the `aes128gcm` content coding
/// (RFC 8188), giving the request body a push service forwards unread to the browser.
///
/// Each message gets a fresh ephemeral P-256 key and a fresh 16-byte salt, so no two messages share a
/// content key, and the push service, which sees only the body, learns nothing but its length. The
/// body is one record, as RFC 8291 §4 requires:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +---------------------------------------------------------------+
/// |                     salt (16 octets)                          |
/// +---------------------------------------------------------------+
/// |                  record size rs = 4096 (uint32)               |
/// +---------------+-----------------------------------------------+
/// | idlen = 65    |  keyid: the ephemeral public key as_public,   |
/// +---------------+  uncompressed (65 octets)                     |
/// |                                                               |
/// +---------------------------------------------------------------+
/// |  AES-128-GCM(CEK, NONCE, plaintext || 0x02) with its 16-octet |
/// |  tag: 0x02 marks the last record, and no padding follows it   |
/// +---------------------------------------------------------------+
///
/// ecdh_secret = ECDH(as_private, ua_public)
/// IKM   = HKDF(salt: auth_secret, ikm: ecdh_secret,
///              info: "WebPush: info" || 0x00 || ua_public || as_public, L: 32)   RFC 8291 §3.4
/// PRK   = HKDF-Extract(salt, IKM)                                                RFC 8188 §2.2
/// CEK   = HKDF-Expand(PRK, "Content-Encoding: aes128gcm" || 0x00, 16)
/// NONCE = HKDF-Expand(PRK, "Content-Encoding: nonce" || 0x00, 12)   (record 0: XOR with 0)
/// ```
public enum WebPushEncryptor {
    /// The record size written in the header. RFC 8291 §4 has push services accept 4096-byte bodies;
    /// one record of this size always holds the whole body.
    public static let recordSize = 4096

    /// The header: salt, record size, key id length, and the 65-byte key id.
    static let headerLength = 16 + 4 + 1 + 65

    /// The most plaintext one message carries: 4096 octets less the header (86), the tag (16) and the
    /// delimiter (1), the 3993 of RFC 8291 §4.
    public static let maximumPlaintextLength = recordSize - headerLength - AES128GCM.tagLength - 1

    /// The length of the salt the header carries (RFC 8188 §2.1).
    static let saltLength = 16

    /// `plaintext` encrypted for `keys`, with a new ephemeral key and salt.
    public static func encrypt(_ plaintext: [UInt8], for keys: WebPushSubscriptionKeys) throws(WebPushError) -> [UInt8] {
        let ephemeralKey: P256PrivateKey
        do { ephemeralKey = try P256PrivateKey() } catch { throw .crypto(error) }
        return try encrypt(plaintext, for: keys, ephemeralKey: ephemeralKey, salt: SecureRandom.bytes(saltLength))
    }

    /// `plaintext` encrypted for `keys` with the given ephemeral key and salt: for tests that need a
    /// known output (RFC 8291 Appendix A). Reusing either for two messages would reuse a content key.
    package static func encrypt(
        _ plaintext: [UInt8], for keys: WebPushSubscriptionKeys, ephemeralKey: P256PrivateKey, salt: [UInt8]
    ) throws(WebPushError) -> [UInt8] {
        precondition(salt.count == saltLength, "the aes128gcm salt is 16 bytes")
        guard plaintext.count <= maximumPlaintextLength else {
            throw .payloadTooLarge(size: plaintext.count, limit: maximumPlaintextLength)
        }
        let userAgentPublic = keys.p256dh.uncompressedPoint
        let serverPublic = ephemeralKey.publicKey.uncompressedPoint
        do {
            let sharedSecret = try ephemeralKey.sharedSecret(with: keys.p256dh)
            let keyInfo = Array("WebPush: info".utf8) + [0] + userAgentPublic + serverPublic
            let inputKeyingMaterial = HKDF.deriveKey(salt: keys.auth, inputKeyingMaterial: sharedSecret, info: keyInfo, length: 32)
            let pseudorandomKey = HKDF.extract(salt: salt, inputKeyingMaterial: inputKeyingMaterial)
            let contentKey = HKDF.expand(
                pseudorandomKey: pseudorandomKey, info: Array("Content-Encoding: aes128gcm".utf8) + [0], length: AES128GCM.keyLength)
            let nonce = HKDF.expand(
                pseudorandomKey: pseudorandomKey, info: Array("Content-Encoding: nonce".utf8) + [0], length: AES128GCM.nonceLength)
            let record = try AES128GCM.seal(plaintext + [0x02], key: contentKey, nonce: nonce)

            var body: [UInt8] = []
            body.reserveCapacity(headerLength + record.count)
            body += salt
            body += withUnsafeBytes(of: UInt32(recordSize).bigEndian, Array.init)
            body.append(UInt8(serverPublic.count))
            body += serverPublic
            body += record
            return body
        } catch {
            throw .crypto(error)
        }
    }
}
