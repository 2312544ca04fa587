import Foundation

/// Just enough of a mail reader to check what `MailMessage` writes: header fields unfolded, encoded
/// words and quoted-printable decoded, multipart bodies split. Independent of the encoders under test.
enum MailDecoding {
    /// A rendered message's header fields (name, unfolded value) in order, and its body.
    static func split(_ message: String) -> (fields: [(name: String, value: String)], body: String) {
        guard let end = message.range(of: "\r\n\r\n") else { return ([], message) }
        let head = String(message[..<end.lowerBound])
        let body = String(message[end.upperBound...])
        // Unfolding (RFC 5322 §2.2.3): a CR LF followed by white space is removed.
        let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: "\t")
        let fields = unfolded.components(separatedBy: "\r\n").map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            let value = colon < line.endIndex ? line[line.index(after: colon)...] : ""
            return (String(line[..<colon]), String(value.hasPrefix(" ") ? value.dropFirst() : value))
        }
        return (fields, body)
    }

    /// The value of the first field called `name`, compared without case.
    static func field(_ name: String, in message: String) -> String? {
        split(message).fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Decodes `=?UTF-8?B?…?=` words (RFC 2047), dropping the white space between adjacent ones (§6.2).
    static func decodeEncodedWords(_ value: String) -> String {
        var out = ""
        var pending: [UInt8] = []
        var previousWasWord = false
        for token in value.split(separator: " ", omittingEmptySubsequences: false) {
            if token.hasPrefix("=?UTF-8?B?"), token.hasSuffix("?="), let data = Data(base64Encoded: String(token.dropFirst(10).dropLast(2))) {
                pending += data
                previousWasWord = true
                continue
            }
            if !pending.isEmpty {
                out += String(decoding: pending, as: UTF8.self)
                pending = []
            }
            if !out.isEmpty || previousWasWord { out += " " }
            out += token
            previousWasWord = false
        }
        return out + String(decoding: pending, as: UTF8.self)
    }

    /// Decodes quoted-printable (RFC 2045 §6.7): soft breaks removed, `=XX` to bytes, CR LF kept.
    static func decodeQuotedPrintable(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 2 < bytes.count {
                if bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") {
                    index += 3
                    continue
                }
                if let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                    out.append(value)
                    index += 3
                    continue
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The parts of a multipart body (RFC 2046 §5.1.1), each with its own fields and body.
    static func parts(of body: String, boundary: String) -> [String] {
        let pieces = ("\r\n" + body).components(separatedBy: "\r\n--" + boundary)
        // Before the first delimiter: the preamble; after the last: "--" and the epilogue.
        // The CR LF before a delimiter belongs to it, so each part's own last line break is gone; the
        // delimiter line's CR LF opens the piece (one Character in Swift, hence `dropFirst()`).
        return pieces.dropFirst().dropLast().map { piece in
            piece.hasPrefix("\r\n") ? String(piece.dropFirst()) : piece
        }
    }

    /// The `boundary` parameter of a multipart Content-Type value.
    static func boundary(in contentType: String) -> String? {
        guard let range = contentType.range(of: "boundary=\"") else { return nil }
        let rest = contentType[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
