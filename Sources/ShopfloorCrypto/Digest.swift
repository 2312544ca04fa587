import COpenSSL

/// One-shot message digests through OpenSSL's EVP interface.
public enum Digest {
    /// SHA-256 of `bytes` (32 bytes).
    public static func sha256<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        digest(bytes, EVP_sha256(), length: 32)
    }

    /// SHA-1 of `bytes` (20 bytes); only where a protocol demands it (RFC 6455 §4.2.2).
    public static func sha1<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        digest(bytes, EVP_sha1(), length: 20)
    }

    private static func digest<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ type: OpaquePointer?, length: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        var size: UInt32 = 0
        let input = Array(bytes)
        let status = input.withUnsafeBytes { source in
            output.withUnsafeMutableBufferPointer { target in
                EVP_Digest(source.baseAddress, source.count, target.baseAddress, &size, type, nil)
            }
        }
        precondition(status == 1 && Int(size) == length, "EVP_Digest failed")
        return output
    }

    /// HMAC-SHA256 of `message` under `key` (RFC 2104).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                output.withUnsafeMutableBufferPointer { target in
                    _ = HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count), messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                             messageBytes.count, target.baseAddress, &size)
                }
            }
        }
        precondition(size == 32, "HMAC failed")
        return output
    }

    /// Compares in time that depends only on the length, not on where the bytes differ
    /// (`CRYPTO_memcmp`), for secrets such as key hashes and signatures.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0 }
        }
    }
}
