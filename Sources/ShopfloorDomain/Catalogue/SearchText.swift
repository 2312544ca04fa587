import Foundation

/// How product text and the words of a search are cut into terms, the same way on both sides: runs
/// of letters and digits with case and diacritics folded, so `CAFÉ` typed finds `Café` written.
enum SearchText {
    /// The longest term kept, in characters; a longer run is cut there (a 300-letter "word" is noise,
    /// and the cut keeps a query word and the text it was copied from matching each other).
    static let maxTermLength = 64

    /// The terms of `text` in order, repeats kept (the index counts them).
    static func terms(_ text: String) -> [String] {
        var terms: [String] = []
        appendTerms(of: text, to: &terms)
        return terms
    }

    /// Appends the terms of `text` to `terms`.
    ///
    /// ASCII text, nearly all of a catalogue, is cut byte by byte; anything else goes through
    /// Foundation's case and diacritic folding and Unicode's letter and number classes.
    static func appendTerms(of text: String, to terms: inout [String]) {
        var text = text
        text.makeContiguousUTF8()
        if text.utf8.withContiguousStorageIfAvailable({ appendASCIITerms($0, to: &terms) }) == true { return }
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
        for run in folded.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            terms.append(String(run.prefix(maxTermLength)))
        }
    }

    /// Appends the terms of ASCII `bytes` and returns `true`, or returns `false` having appended
    /// nothing when a byte is not ASCII.
    private static func appendASCIITerms(_ bytes: UnsafeBufferPointer<UInt8>, to terms: inout [String]) -> Bool {
        for byte in bytes where byte >= 0x80 { return false }
        var start = -1
        for index in 0...bytes.count {
            let byte = index < bytes.count ? bytes[index] : 0x20
            let isWord = (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte | 0x20)
            if isWord {
                if start < 0 { start = index }
            } else if start >= 0 {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<min(index, start + maxTermLength)])
                terms.append(String(unsafeUninitializedCapacity: run.count) { out in
                    for (offset, byte) in run.enumerated() { out[offset] = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
                    return run.count
                })
                start = -1
            }
        }
        return true
    }
}
