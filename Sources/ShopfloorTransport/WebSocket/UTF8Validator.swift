/// Checks UTF-8 incrementally (RFC 3629), so a text message split over frames and reads is refused
/// at its first invalid byte rather than when it ends (RFC 6455 §8.1).
struct UTF8Validator {
    /// Continuation bytes still expected in the current sequence.
    private var needed = 0
    /// Bounds for the next continuation byte: narrower after E0, ED, F0 and F4 to exclude overlong
    /// forms, surrogates and code points above U+10FFFF.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// Whether the bytes so far end on a character boundary: a message must, when it is complete.
    var isAtBoundary: Bool { needed == 0 }

    /// Feeds `bytes`; `false` as soon as they cannot be UTF-8, whatever follows.
    mutating func consume(_ bytes: some Sequence<UInt8>) -> Bool {
        for byte in bytes {
            if needed == 0 {
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: needed = 1
                case 0xE0: needed = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: needed = 2
                case 0xED: needed = 2; upper = 0x9F
                case 0xF0: needed = 3; lower = 0x90
                case 0xF1...0xF3: needed = 3
                case 0xF4: needed = 3; upper = 0x8F
                default: return false
                }
            } else {
                guard byte >= lower && byte <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                needed -= 1
            }
        }
        return true
    }

    static func isValid(_ bytes: some Sequence<UInt8>) -> Bool {
        var validator = UTF8Validator()
        return validator.consume(bytes) && validator.isAtBoundary
    }
}
