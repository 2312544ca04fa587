import COpenSSL

/// Owns one OpenSSL `EVP_PKEY` and frees it on `deinit`; the only holder of such a pointer in this module.
///
/// `@unchecked Sendable` because the key never changes once made and OpenSSL 3 allows concurrent use of
/// an `EVP_PKEY` that no thread modifies (openssl-threads(7): "EVP_PKEY ... objects can be used
/// concurrently by multiple threads provided that they are not modified"). Every operation here builds
/// its own `EVP_PKEY_CTX` or `EVP_MD_CTX` from the key, and those contexts are never shared.
final class EVPKey: @unchecked Sendable {
    private let pointer: OpaquePointer

    /// Takes ownership of `pointer`: it is freed with this object.
    private init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { EVP_PKEY_free(pointer) }

    /// The key parameters used here (`OSSL_PKEY_PARAM_*` in `core_names.h`), as static C strings: see
    /// ``Swift/StaticString/cString``.
    enum ParameterName {
        static let group: StaticString = "group"
        static let publicKey: StaticString = "pub"
        static let encodedPublicKey: StaticString = "encoded-pub-key"
        static let privateKey: StaticString = "priv"
    }

    /// Runs `body` with the key, which stays alive until `body` returns.
    func withPointer<Result, Failure: Error>(_ body: (OpaquePointer) throws(Failure) -> Result) throws(Failure) -> Result {
        try withExtendedLifetime(self) { () throws(Failure) -> Result in try body(pointer) }
    }

    /// A new random P-256 key pair (`EVP_EC_gen`, through the shim: the macro is variadic).
    static func generateP256() throws(CryptoError) -> EVPKey {
        guard let pointer = shopfloor_EVP_EC_gen(("P-256" as StaticString).cString) else { throw .openSSL("EVP_EC_gen") }
        return EVPKey(taking: pointer)
    }

    /// A P-256 key from its parts (`EVP_PKEY_fromdata`): the public point always, the private scalar
    /// for a key pair. The point is checked to lie on the curve; the scalar's range is the caller's to check.
    static func p256(publicPoint: [UInt8], privateScalar: [UInt8]? = nil) throws(CryptoError) -> EVPKey {
        guard let builder = OSSL_PARAM_BLD_new() else { throw .openSSL("OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(builder) }
        // A secure BIGNUM makes the parameter array keep the scalar where freeing it clears it.
        var scalar: OpaquePointer?
        defer { BN_clear_free(scalar) }
        if let privateScalar {
            scalar = BN_secure_new()
            guard scalar != nil, BN_bin2bn(privateScalar, Int32(privateScalar.count), scalar) != nil else { throw .openSSL("BN_bin2bn") }
            guard OSSL_PARAM_BLD_push_BN(builder, ParameterName.privateKey.cString, scalar) == 1 else { throw .openSSL("OSSL_PARAM_BLD_push_BN") }
        }
        guard OSSL_PARAM_BLD_push_utf8_string(builder, ParameterName.group.cString, ("prime256v1" as StaticString).cString, 0) == 1 else {
            throw .openSSL("OSSL_PARAM_BLD_push_utf8_string")
        }
        // The builder refers to the point's bytes until `OSSL_PARAM_BLD_to_param` copies them.
        let parameters = publicPoint.withUnsafeBytes { point in
            OSSL_PARAM_BLD_push_octet_string(builder, ParameterName.publicKey.cString, point.baseAddress, point.count) == 1
                ? OSSL_PARAM_BLD_to_param(builder) : nil
        }
        guard let parameters else { throw .openSSL("OSSL_PARAM_BLD_to_param") }
        defer { OSSL_PARAM_free(parameters) }

        guard let context = EVP_PKEY_CTX_new_from_name(nil, ("EC" as StaticString).cString, nil) else { throw .openSSL("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_fromdata_init(context) == 1 else { throw .openSSL("EVP_PKEY_fromdata_init") }
        var key: OpaquePointer?
        let selection = privateScalar == nil ? shopfloor_EVP_PKEY_PUBLIC_KEY() : shopfloor_EVP_PKEY_KEYPAIR()
        guard EVP_PKEY_fromdata(context, &key, selection, parameters) == 1, let key else {
            // Import decodes the point, and fails when it is not on the curve.
            throw .invalidPublicKey(reason: "not a point on P-256 (\(CryptoError.drainErrorQueue().joined(separator: "; ")))")
        }
        return EVPKey(taking: key)
    }

    /// The first key in `pem` (PKCS#8 `PRIVATE KEY`, or SEC 1 `EC PRIVATE KEY`), which must be an EC key.
    static func decodePrivateKey(pem: String) throws(CryptoError) -> EVPKey {
        // The decoder keeps this address and stores the key there during `OSSL_DECODER_from_data`, so it
        // must outlive both calls: `&` on a Swift variable is only promised for the one call it appears in.
        let slot = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 1)
        slot.initialize(to: nil)
        defer { slot.deallocate() }
        guard let decoder = OSSL_DECODER_CTX_new_for_pkey(
            slot, ("PEM" as StaticString).cString, nil, ("EC" as StaticString).cString, shopfloor_EVP_PKEY_KEYPAIR(), nil, nil) else {
            throw .openSSL("OSSL_DECODER_CTX_new_for_pkey")
        }
        defer { OSSL_DECODER_CTX_free(decoder) }
        let bytes = Array(pem.utf8)
        let status = bytes.withUnsafeBufferPointer { buffer in
            var data = buffer.baseAddress
            var length = buffer.count
            return OSSL_DECODER_from_data(decoder, &data, &length)
        }
        // Owned from here, so freed on every path below.
        let decoded = slot.pointee.map { EVPKey(taking: $0) }
        guard status == 1, let decoded else {
            throw .invalidPrivateKey(reason: "no EC private key in the PEM (\(CryptoError.drainErrorQueue().joined(separator: "; ")))")
        }
        return decoded
    }

    /// The key's private part as PKCS#8 `PrivateKeyInfo` in PEM (RFC 5958, RFC 7468 §10), unencrypted.
    func privateKeyPEM() throws(CryptoError) -> String {
        try withPointer { (key) throws(CryptoError) -> String in
            guard let encoder = OSSL_ENCODER_CTX_new_for_pkey(
                key, shopfloor_EVP_PKEY_KEYPAIR(), ("PEM" as StaticString).cString, ("PrivateKeyInfo" as StaticString).cString, nil),
                  OSSL_ENCODER_CTX_get_num_encoders(encoder) > 0
            else { throw .openSSL("OSSL_ENCODER_CTX_new_for_pkey") }
            defer { OSSL_ENCODER_CTX_free(encoder) }
            var data: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard OSSL_ENCODER_to_data(encoder, &data, &length) == 1, let data else { throw .openSSL("OSSL_ENCODER_to_data") }
            defer { shopfloor_OPENSSL_clear_free(data, length) }
            return String(decoding: UnsafeBufferPointer(start: data, count: length), as: UTF8.self)
        }
    }

    /// An octet-string parameter of at most `capacity` bytes, such as the encoded public key.
    func octetString(_ name: StaticString, capacity: Int) throws(CryptoError) -> [UInt8] {
        try withPointer { (key) throws(CryptoError) -> [UInt8] in
            var out = [UInt8](repeating: 0, count: capacity)
            var length = 0
            let status = out.withUnsafeMutableBufferPointer { EVP_PKEY_get_octet_string_param(key, name.cString, $0.baseAddress, capacity, &length) }
            guard status == 1 else { throw .openSSL("EVP_PKEY_get_octet_string_param(\(name))") }
            return Array(out.prefix(length))
        }
    }

    /// A big-number parameter, such as the private scalar, big-endian and left-padded to `length` bytes.
    func bigNumber(_ name: StaticString, length: Int) throws(CryptoError) -> [UInt8] {
        try withPointer { (key) throws(CryptoError) -> [UInt8] in
            var number: OpaquePointer?
            guard EVP_PKEY_get_bn_param(key, name.cString, &number) == 1, let number else { throw .openSSL("EVP_PKEY_get_bn_param(\(name))") }
            defer { BN_clear_free(number) }
            var out = [UInt8](repeating: 0, count: length)
            guard BN_bn2binpad(number, &out, Int32(length)) == Int32(length) else { throw .openSSL("BN_bn2binpad") }
            return out
        }
    }

    /// A string parameter, such as the group's name.
    func utf8String(_ name: StaticString) throws(CryptoError) -> String {
        try withPointer { (key) throws(CryptoError) -> String in
            var buffer = [CChar](repeating: 0, count: 80)
            var length = 0
            guard EVP_PKEY_get_utf8_string_param(key, name.cString, &buffer, buffer.count, &length) == 1 else {
                throw .openSSL("EVP_PKEY_get_utf8_string_param(\(name))")
            }
            return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
