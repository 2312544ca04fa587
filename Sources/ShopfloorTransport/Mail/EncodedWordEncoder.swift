/// Header text outside printable ASCII as RFC 2047 encoded words: `=?UTF-8?B?<base64>?=`.
///
/// Base64 ("B") rather than "Q", because it is safe in every place a word may stand (RFC 2047 §5
/// restricts Q in phrases). Each word is at most 75 characters (§2) and holds whole characters: a
/// word ends only between Unicode scalars, so no UTF-8 sequence is split (§5 (3)). A reader joins
/// adjacent words and drops the folding white space between them (§6.2), so any text, CR and LF
/// included, comes back as it was and never as a line break in the header.
enum EncodedWordEncoder {
    /// The longest encoded word (RFC 2047 §2).
    static let maximumWordLength = 75
    private static let prefix = "=?UTF-8?B?"
    private static let suffix = "?="

    /// The words for `text`; the first is at most `firstWordLength` long, so it fits on the line the
    /// field name starts, the rest at most ``maximumWordLength``.
    static func encode(_ text: String, firstWordLength: Int = maximumWordLength) -> [String] {
        var words: [String] = []
        var pending: [UInt8] = []
        var limit = min(firstWordLength, maximumWordLength)
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if !pending.isEmpty, encodedLength(pending.count + bytes.count) > limit {
                words.append(word(pending))
                pending = []
                limit = maximumWordLength
            }
            pending += bytes
        }
        if !pending.isEmpty || words.isEmpty { words.append(word(pending)) }
        return words
    }

    /// Whether `text` can stand in a header as it is: printable ASCII and spaces, and nothing a reader
    /// would take for the start of an encoded word (`=?`).
    static func needsEncoding(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 > 0x7E } || text.contains("=?")
    }

    private static func encodedLength(_ byteCount: Int) -> Int {
        prefix.count + (byteCount + 2) / 3 * 4 + suffix.count
    }

    private static func word(_ bytes: [UInt8]) -> String {
        prefix + Base64.encode(bytes) + suffix
    }
}
