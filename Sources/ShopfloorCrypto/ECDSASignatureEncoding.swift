import COpenSSL

/// Converts P-256 ECDSA signatures between OpenSSL's DER `ECDSA-Sig-Value` (SEQUENCE of r and s,
/// RFC 3279 §2.2.3) and JWS's raw form: r and s as 32-byte big-endian integers, concatenated
/// (RFC 7518 §3.4). `ECDSA_SIG` is not one of the EC_KEY calls OpenSSL 3 deprecates.
enum ECDSASignatureEncoding {
    static let scalarLength = 32

    /// `r || s` from a DER signature as `EVP_DigestSign` writes it.
    static func raw(fromDER der: [UInt8]) throws(CryptoError) -> [UInt8] {
        let signature = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let signature else { throw .openSSL("d2i_ECDSA_SIG") }
        defer { ECDSA_SIG_free(signature) }
        var r: OpaquePointer?
        var s: OpaquePointer?
        ECDSA_SIG_get0(signature, &r, &s)
        var out = [UInt8](repeating: 0, count: 2 * scalarLength)
        let written = out.withUnsafeMutableBufferPointer { out in
            (BN_bn2binpad(r, out.baseAddress, Int32(scalarLength)), BN_bn2binpad(s, out.baseAddress! + scalarLength, Int32(scalarLength)))
        }
        guard written == (Int32(scalarLength), Int32(scalarLength)) else { throw .openSSL("BN_bn2binpad") }
        return out
    }

    /// A DER signature for `EVP_DigestVerify` from 64 bytes of `r || s`.
    static func der(fromRaw raw: [UInt8]) throws(CryptoError) -> [UInt8] {
        precondition(raw.count == 2 * scalarLength, "raw ECDSA P-256 signatures are 64 bytes")
        guard let signature = ECDSA_SIG_new() else { throw .openSSL("ECDSA_SIG_new") }
        defer { ECDSA_SIG_free(signature) }
        let r = BN_bin2bn(raw, Int32(scalarLength), nil)
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + scalarLength, Int32(scalarLength), nil) }
        // On success ECDSA_SIG_set0 owns r and s, and ECDSA_SIG_free frees them; until then they are ours.
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            throw .openSSL("ECDSA_SIG_set0")
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { throw .openSSL("i2d_ECDSA_SIG") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        guard written == length else { throw .openSSL("i2d_ECDSA_SIG") }
        return der
    }
}
