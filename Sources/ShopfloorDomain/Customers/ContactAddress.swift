/// The one stored form of an email address and a phone number, so that the same person typed two
/// ways is found as one customer.
public enum ContactAddress {
    /// Trimmed and lower-cased, or `nil` when it is not an address: one `@`, a non-empty local part, a
    /// dotted domain, no spaces, at most 254 bytes (RFC 5321's path limit).
    public static func email(_ text: String) -> String? {
        let trimmed = text.trimmingWhitespace().lowercased()
        // No white space and no control character (C0, DEL, C1): an address goes into mail headers.
        guard trimmed.utf8.count <= 254, !trimmed.contains(where: { $0.isWhitespace || $0.isNewline }),
              !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else { return nil }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64 else { return nil }
        let domain = parts[1]
        guard domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains(".."),
              !domain.contains(where: { !($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else { return nil }
        return trimmed
    }

    /// E.164 (`+` and 8 to 15 digits, the first not 0), or `nil`. Spaces, dashes, dots and parentheses
    /// between digits are dropped; a number without its `+` is not guessed at, since the country it
    /// belongs to is not known.
    public static func phone(_ text: String) -> String? {
        var digits = ""
        var sawPlus = false
        for character in text.trimmingWhitespace() {
            switch character {
            case "+" where !sawPlus && digits.isEmpty: sawPlus = true
            case "0"..."9": digits.append(character)
            case " ", "-", ".", "(", ")": continue
            default: return nil
            }
        }
        guard sawPlus, (8...15).contains(digits.count), digits.first != "0" else { return nil }
        return "+" + digits
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
