import COpenSSL

/// A private key on NIST P-256: an application server's VAPID identity (RFC 8292), or the one-message
/// ephemeral key of Web Push encryption (RFC 8291 §3.1).
///
/// Immutable once made, hence `Sendable`; ``EVPKey`` says why sharing the OpenSSL key is safe. The
/// scalar is exported only on request (``rawScalar()``, ``pemRepresentation()``), for storage.
public struct P256PrivateKey: Sendable {
    /// The matching public key, computed once when the key is made.
    public let publicKey: P256PublicKey
    private let key: EVPKey

    private static let scalarLength = 32

    /// A new random key pair from OpenSSL's CSPRNG.
    public init() throws(CryptoError) {
        key = try EVPKey.generateP256()
        publicKey = try P256PublicKey(uncompressedPoint: key.octetString(EVPKey.ParameterName.encodedPublicKey, capacity: P256PublicKey.pointLength))
    }

    /// The key with private scalar `rawScalar`: 32 bytes, big-endian, in [1, n − 1] (SEC 1 §2.3.6,
    /// as JWK's `d` and the RFC 8291 examples write it).
    public init(rawScalar: [UInt8]) throws(CryptoError) {
        guard rawScalar.count == Self.scalarLength else {
            throw .invalidLength(of: "P-256 private scalar", expected: Self.scalarLength, actual: rawScalar.count)
        }
        let point = try Self.publicPoint(for: rawScalar)
        key = try EVPKey.p256(publicPoint: point, privateScalar: rawScalar)
        publicKey = try P256PublicKey(uncompressedPoint: point)
    }

    /// The key in `pem`: PKCS#8 `PRIVATE KEY` as ``pemRepresentation()`` writes it (or SEC 1
    /// `EC PRIVATE KEY`, as `openssl ecparam -genkey` does), unencrypted, on P-256.
    ///
    /// The key is rebuilt from its scalar, so one stored without its public point works the same.
    public init(pemRepresentation pem: String) throws(CryptoError) {
        let decoded = try EVPKey.decodePrivateKey(pem: pem)
        let group = try decoded.utf8String(EVPKey.ParameterName.group)
        guard group == "prime256v1" else { throw .invalidPrivateKey(reason: "on curve \(group), not P-256") }
        try self.init(rawScalar: decoded.bigNumber(EVPKey.ParameterName.privateKey, length: Self.scalarLength))
    }

    /// The private scalar, 32 bytes big-endian.
    public func rawScalar() throws(CryptoError) -> [UInt8] {
        try key.bigNumber(EVPKey.ParameterName.privateKey, length: Self.scalarLength)
    }

    /// The key as unencrypted PKCS#8 in PEM (`-----BEGIN PRIVATE KEY-----`), the form `openssl pkey`
    /// and most libraries read; whoever stores it must protect it as the secret it is.
    public func pemRepresentation() throws(CryptoError) -> String {
        try key.privateKeyPEM()
    }

    /// The ECDH shared secret with `peer` (SEC 1 §3.3.1): the x-coordinate of the shared point, 32 bytes.
    public func sharedSecret(with peer: P256PublicKey) throws(CryptoError) -> [UInt8] {
        try key.withPointer { (own) throws(CryptoError) -> [UInt8] in
            try peer.key.withPointer { (other) throws(CryptoError) -> [UInt8] in
                guard let context = EVP_PKEY_CTX_new_from_pkey(nil, own, nil) else { throw .openSSL("EVP_PKEY_CTX_new_from_pkey") }
                defer { EVP_PKEY_CTX_free(context) }
                guard EVP_PKEY_derive_init(context) == 1 else { throw .openSSL("EVP_PKEY_derive_init") }
                guard EVP_PKEY_derive_set_peer(context, other) == 1 else { throw .openSSL("EVP_PKEY_derive_set_peer") }
                var secret = [UInt8](repeating: 0, count: Self.scalarLength)
                var length = secret.count
                guard EVP_PKEY_derive(context, &secret, &length) == 1, length == Self.scalarLength else {
                    throw .openSSL("EVP_PKEY_derive")
                }
                return secret
            }
        }
    }

    /// An ECDSA signature over SHA-256 of `message` (ES256, RFC 7518 §3.4) in JWS's raw `r || s` form,
    /// 64 bytes. OpenSSL draws a fresh random nonce for each signature, so signing twice gives two
    /// different signatures, both valid.
    public func signature(for message: [UInt8]) throws(CryptoError) -> [UInt8] {
        let der = try key.withPointer { (pointer) throws(CryptoError) -> [UInt8] in
            guard let context = EVP_MD_CTX_new() else { throw .openSSL("EVP_MD_CTX_new") }
            defer { EVP_MD_CTX_free(context) }
            guard EVP_DigestSignInit_ex(context, nil, ("SHA256" as StaticString).cString, nil, nil, pointer, nil) == 1 else { throw .openSSL("EVP_DigestSignInit_ex") }
            // The first call asks for the longest DER signature, the second writes the actual one.
            var length = 0
            let sized = message.withUnsafeBufferPointer { EVP_DigestSign(context, nil, &length, $0.baseAddress, $0.count) }
            guard sized == 1 else { throw .openSSL("EVP_DigestSign") }
            var der = [UInt8](repeating: 0, count: length)
            let status = message.withUnsafeBufferPointer { message in
                der.withUnsafeMutableBufferPointer { EVP_DigestSign(context, $0.baseAddress, &length, message.baseAddress, message.count) }
            }
            guard status == 1 else { throw .openSSL("EVP_DigestSign") }
            return Array(der.prefix(length))
        }
        return try ECDSASignatureEncoding.raw(fromDER: der)
    }

    /// `scalar · G` as an uncompressed point, after checking the scalar is in [1, n − 1].
    ///
    /// OpenSSL 3 imports a private key without deriving its public point, so it is computed here. The
    /// `EC_GROUP`/`EC_POINT` calls used are not among the deprecated EC_KEY API.
    private static func publicPoint(for scalar: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1) else { throw .openSSL("EC_GROUP_new_by_curve_name") }
        defer { EC_GROUP_free(group) }
        guard let number = BN_secure_new() else { throw .openSSL("BN_secure_new") }
        defer { BN_clear_free(number) }
        guard BN_bin2bn(scalar, Int32(scalar.count), number) != nil else { throw .openSSL("BN_bin2bn") }
        guard BN_is_zero(number) == 0, BN_cmp(number, EC_GROUP_get0_order(group)) < 0 else {
            throw .invalidPrivateKey(reason: "scalar not in [1, n − 1]")
        }
        guard let point = EC_POINT_new(group) else { throw .openSSL("EC_POINT_new") }
        defer { EC_POINT_free(point) }
        guard EC_POINT_mul(group, point, number, nil, nil, nil) == 1 else { throw .openSSL("EC_POINT_mul") }
        var encoded = [UInt8](repeating: 0, count: P256PublicKey.pointLength)
        let length = EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, &encoded, encoded.count, nil)
        guard length == P256PublicKey.pointLength else { throw .openSSL("EC_POINT_point2oct") }
        return encoded
    }
}
