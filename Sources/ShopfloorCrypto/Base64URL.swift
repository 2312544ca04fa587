/// Base64 with the URL and filename safe alphabet (RFC 4648 §5), as JWS (RFC 7515 §2) and Web Push
/// subscriptions (RFC 8291 §3.1) write keys and signatures.
///
/// Encoding never pads, as both of those require. Decoding accepts padding when it is correct, since
/// some clients add it, but nothing else outside the alphabet: no `+` or `/` from standard base64, no
/// whitespace, no line breaks. It also refuses a last character whose unused bits are not zero, so one
/// value has exactly one text form and two spellings of a key cannot compare unequal.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The text form of `bytes`, without padding.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 63)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(6 - bits)) & 63)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes.
    public static func decode(_ text: some StringProtocol) throws(CryptoError) -> [UInt8] {
        let characters = Array(text.utf8)
        var end = characters.count
        while end > 0, characters[end - 1] == UInt8(ascii: "=") { end -= 1 }
        let padding = characters.count - end
        // Padding fills the last group to four characters, and no group ends in one character: those
        // are the only lengths an encoder can produce.
        if padding > 0, padding > 2 || characters.count % 4 != 0 { throw .invalidBase64URL(position: end) }
        if end % 4 == 1 { throw .invalidBase64URL(position: end - 1) }

        var out: [UInt8] = []
        out.reserveCapacity(end * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for position in 0..<end {
            guard let value = sextet(characters[position]) else { throw .invalidBase64URL(position: position) }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        if buffer & ((1 << UInt32(bits)) - 1) != 0 { throw .invalidBase64URL(position: end - 1) }
        return out
    }

    private static func sextet(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
