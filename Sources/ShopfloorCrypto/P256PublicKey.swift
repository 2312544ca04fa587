import COpenSSL

/// A public key on NIST P-256 (secp256r1), as Web Push subscriptions (`p256dh`, RFC 8291 §3.1) and
/// VAPID (`k`, RFC 8292 §3.2) carry it: the uncompressed point `0x04 || X || Y`, 65 bytes.
///
/// Immutable once made, and checked on the way in: a point that is not on the curve never becomes a
/// key, so an ECDH with it cannot leak bits of our private key (the invalid-curve attack).
public struct P256PublicKey: Sendable, Hashable {
    /// The uncompressed point, `0x04 || X || Y` (SEC 1 §2.3.3).
    public let uncompressedPoint: [UInt8]
    let key: EVPKey

    static let pointLength = 65

    /// The key at `uncompressedPoint`; compressed points (`0x02`, `0x03`) are refused, since neither
    /// Web Push nor VAPID may send them.
    public init(uncompressedPoint: [UInt8]) throws(CryptoError) {
        guard uncompressedPoint.count == Self.pointLength else {
            throw .invalidLength(of: "P-256 uncompressed point", expected: Self.pointLength, actual: uncompressedPoint.count)
        }
        guard uncompressedPoint[0] == 0x04 else { throw .invalidPublicKey(reason: "not an uncompressed point (first byte is not 0x04)") }
        let key = try EVPKey.p256(publicPoint: uncompressedPoint)
        // Import already refuses a point off the curve; the check adds the point at infinity and the
        // order, so the key is fully validated (SP 800-56A §5.6.2.3.3) whatever the import does.
        let valid = try key.withPointer { (pointer) throws(CryptoError) -> Bool in
            guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pointer, nil) else { throw .openSSL("EVP_PKEY_CTX_new_from_pkey") }
            defer { EVP_PKEY_CTX_free(context) }
            return EVP_PKEY_public_check(context) == 1
        }
        guard valid else {
            throw .invalidPublicKey(reason: "failed validation (\(CryptoError.drainErrorQueue().joined(separator: "; ")))")
        }
        self.uncompressedPoint = uncompressedPoint
        self.key = key
    }

    /// Whether `signature`, ECDSA over SHA-256 in JWS's raw `r || s` form (RFC 7518 §3.4, 64 bytes),
    /// was made for `message` by this key's private half. A signature of any other length is `false`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) throws(CryptoError) -> Bool {
        guard signature.count == 64 else { return false }
        let der = try ECDSASignatureEncoding.der(fromRaw: signature)
        return try key.withPointer { (pointer) throws(CryptoError) -> Bool in
            guard let context = EVP_MD_CTX_new() else { throw .openSSL("EVP_MD_CTX_new") }
            defer { EVP_MD_CTX_free(context) }
            guard EVP_DigestVerifyInit_ex(context, nil, ("SHA256" as StaticString).cString, nil, nil, pointer, nil) == 1 else {
                throw .openSSL("EVP_DigestVerifyInit_ex")
            }
            let status = der.withUnsafeBufferPointer { der in
                message.withUnsafeBufferPointer { message in
                    EVP_DigestVerify(context, der.baseAddress, der.count, message.baseAddress, message.count)
                }
            }
            // 0 is a signature that does not verify, below 0 one OpenSSL could not even parse: both are
            // answers about the signature, and neither may leave entries on the thread's error queue.
            CryptoError.drainErrorQueue()
            return status == 1
        }
    }

    public static func == (lhs: P256PublicKey, rhs: P256PublicKey) -> Bool {
        lhs.uncompressedPoint == rhs.uncompressedPoint
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(uncompressedPoint)
    }
}
