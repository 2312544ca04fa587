/// Header fields as lines (RFC 5322 §2.2): `Name: value` and CR LF, folded with CR LF and a space
/// before a token that would take a line past 76 characters, the limit RFC 2047 §2 sets for lines with
/// encoded words (within RFC 5322 §2.1.1's 78).
///
/// Folding only ever inserts CR LF before a space that is already there, so unfolding gives the value
/// back; nothing else in a field can hold CR or LF: text that is not printable ASCII becomes encoded
/// words, and the values of extra fields are checked by ``MailMessage``.
enum MailHeaderEncoder {
    static let foldWidth = 76
    /// The longest line, CR LF not counted (RFC 5322 §2.1.1).
    static let maximumLineLength = 998
    /// ASCII display names longer than this are encoded, so that encoded words can fold them.
    private static let longestPlainPhrase = 64

    /// An unstructured field such as `Subject` (§3.6.5): as it is, folded at its spaces, when it is
    /// printable ASCII that folds into 998-octet lines; as encoded words otherwise.
    static func unstructured(_ name: String, _ text: String) -> String {
        if !EncodedWordEncoder.needsEncoding(text), let plain = folded(name, text) { return plain }
        return field(name, tokens: EncodedWordEncoder.encode(text, firstWordLength: firstWordLength(after: name)))
    }

    /// A printable-ASCII value folded at its spaces; `nil` when a piece between spaces is too long for
    /// a 998-octet line.
    static func folded(_ name: String, _ value: String) -> String? {
        let field = field(name, tokens: value.split(separator: " ", omittingEmptySubsequences: false).map(String.init))
        let fits = field.utf8.split(separator: UInt8(ascii: "\n")).allSatisfy { $0.count <= maximumLineLength + 1 }
        return fits ? field : nil
    }

    /// An address list such as `From` or `To` (§3.4): `Name <address>` or a bare address, separated by
    /// commas.
    static func mailboxes(_ name: String, _ addresses: [MailAddress]) -> String {
        var tokens: [String] = []
        for (index, mailbox) in addresses.enumerated() {
            var pieces = [mailbox.address]
            if let displayName = mailbox.displayName {
                let first = index == 0 ? firstWordLength(after: name) : EncodedWordEncoder.maximumWordLength
                pieces = phrase(displayName, firstWordLength: first) + ["<\(mailbox.address)>"]
            }
            if index < addresses.count - 1 { pieces[pieces.count - 1] += "," }
            tokens += pieces
        }
        return field(name, tokens: tokens)
    }

    /// A field whose value fits on one line by construction (`Date`, `Message-ID`, `Content-Type`).
    static func line(_ name: String, _ value: String) -> String {
        "\(name): \(value)\r\n"
    }

    /// A display name (§3.2.5 `phrase`): atoms as they are, other printable ASCII as a quoted string,
    /// anything else (or a long name) as encoded words.
    private static func phrase(_ name: String, firstWordLength: Int) -> [String] {
        if EncodedWordEncoder.needsEncoding(name) || name.utf8.count > longestPlainPhrase {
            return EncodedWordEncoder.encode(name, firstWordLength: firstWordLength)
        }
        let words = name.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        if words.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 < 0x80 && MailAddress.isAtomText($0) } }) { return [name] }
        var quoted = "\""
        for character in name {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return [quoted + "\""]
    }

    /// Room for the first encoded word on the line that starts with `Name: `.
    private static func firstWordLength(after name: String) -> Int {
        foldWidth - name.utf8.count - 2
    }

    /// `Name:` and the tokens, each after a space, folding before a token that would pass
    /// ``foldWidth``; never before an empty token (a line of only white space is not allowed) and never
    /// before the first (a line of only the name reads badly).
    private static func field(_ name: String, tokens: [String]) -> String {
        var out = name + ":"
        var lineLength = out.utf8.count
        for (index, token) in tokens.enumerated() {
            let width = token.utf8.count + 1
            if index > 0, !token.isEmpty, lineLength + width > foldWidth {
                out += "\r\n " + token
                lineLength = width
            } else {
                out += " " + token
                lineLength += width
            }
        }
        return out + "\r\n"
    }
}
