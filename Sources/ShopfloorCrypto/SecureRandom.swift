import COpenSSL
import Synchronization

/// Cryptographically secure random bytes from OpenSSL's CSPRNG (`RAND_bytes`).
///
/// Small requests (identifiers, every cart line has one) are served from 4 KiB drawn at a time: one
/// call into OpenSSL, with its locking, per hundreds of identifiers instead of one each. The bytes are
/// the generator's all the same; each is handed out once and zeroed in the pool as it goes.
public enum SecureRandom {
    private static let poolSize = 4096
    private static let pool = Mutex<(bytes: [UInt8], next: Int)>(([], poolSize))

    /// `count` random bytes. Traps if OpenSSL cannot seed: nothing secure can be made without it.
    public static func bytes(_ count: Int) -> [UInt8] {
        guard count <= 64 else { return drawn(count) }
        return pool.withLock { pool in
            if pool.next + count > pool.bytes.count {
                pool.bytes = drawn(poolSize)
                pool.next = 0
            }
            let range = pool.next..<(pool.next + count)
            pool.next += count
            let out = Array(pool.bytes[range])
            pool.bytes.replaceSubrange(range, with: repeatElement(0, count: count))
            return out
        }
    }

    private static func drawn(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(status == 1, "RAND_bytes failed")
        return bytes
    }

    /// `count` random bytes as lowercase hex.
    public static func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in bytes(count) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SecureRandom {
    /// `count` random bytes in Crockford's base32 (lowercase, no padding): compact, case-safe
    /// identifiers; 16 bytes give 128 bits in 26 characters.
    public static func base32(_ count: Int) -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes(count) {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SecureRandom {
    /// A uniformly random 6-digit code, leading zeros kept (`004217`): PINs and sign-in codes. Values
    /// past the last whole million of `UInt32` are drawn again, so no code is likelier than another.
    public static func sixDigits() -> String {
        while true {
            let value = bytes(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if value < 4_294_000_000 {
                let digits = String(value % 1_000_000)
                return String(repeating: "0", count: 6 - digits.count) + digits
            }
        }
    }
}
