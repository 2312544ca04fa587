/// HKDF with SHA-256 (RFC 5869): turns a shared secret into keys of the length a cipher needs.
///
/// Built on ``Digest/hmacSHA256(key:message:)``, exactly as RFC 5869 §2 writes it: the steps are two
/// short loops, and Web Push (RFC 8291 §3.4) needs extract and expand apart, with the first step's
/// output fed to two expands.
public enum HKDF {
    /// SHA-256's output length, the most one expand step yields.
    private static let hashLength = 32

    /// The longest output RFC 5869 §2.3 allows: 255 blocks.
    public static let maximumLength = 255 * hashLength

    /// Concentrates `inputKeyingMaterial` into a 32-byte pseudorandom key (RFC 5869 §2.2).
    ///
    /// An empty `salt` stands for 32 zero bytes, as the RFC says. They are passed as such, because
    /// OpenSSL's `HMAC` refuses a key of length zero rather than padding it.
    public static func extract(salt: [UInt8], inputKeyingMaterial: [UInt8]) -> [UInt8] {
        Digest.hmacSHA256(key: salt.isEmpty ? [UInt8](repeating: 0, count: hashLength) : salt, message: inputKeyingMaterial)
    }

    /// `length` bytes of output keying material from `pseudorandomKey`, bound to `info` (RFC 5869 §2.3).
    ///
    /// `length` is the caller's constant (a key or nonce size), so one outside 0...``maximumLength``
    /// is a bug and traps.
    public static func expand(pseudorandomKey: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        precondition((0...maximumLength).contains(length), "HKDF output length \(length) outside 0...\(maximumLength)")
        var output: [UInt8] = []
        output.reserveCapacity(length + hashLength)
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = Digest.hmacSHA256(key: pseudorandomKey, message: block + info + [counter])
            output += block
            counter &+= 1
        }
        return Array(output.prefix(length))
    }

    /// Extract then expand in one step.
    public static func deriveKey(salt: [UInt8], inputKeyingMaterial: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        expand(pseudorandomKey: extract(salt: salt, inputKeyingMaterial: inputKeyingMaterial), info: info, length: length)
    }
}
