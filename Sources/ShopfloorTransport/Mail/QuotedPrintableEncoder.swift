/// A body as quoted-printable (RFC 2045 §6.7): 7-bit, CR LF line breaks, no line over 76 characters.
///
/// Printable ASCII stays as it is but for `=`; every other byte is `=XX`; a space or tab that would end
/// a line is encoded, as a transport may strip it (rule 3). Lines longer than 76 characters are cut
/// with a soft break, `=` CR LF (rule 5), never inside an `=XX`. Each CR LF, lone LF or lone CR of the
/// text is one line break. The output never holds `=_`: after `=` comes a hex digit or CR, which is
/// what makes a boundary starting with `=_` safe (RFC 2045 §6.7, RFC 2046 §5.1.1).
enum QuotedPrintableEncoder {
    /// The longest encoded line, soft break included, not counting CR LF.
    static let maximumLineLength = 76
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func encode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") else {
                index += 1
                continue
            }
            encodeLine(bytes[lineStart..<index], into: &out)
            index += byte == UInt8(ascii: "\r") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") ? 2 : 1
            lineStart = index
        }
        if lineStart < bytes.count { encodeLine(bytes[lineStart...], into: &out) }
        return out
    }

    /// One line of text, ended by CR LF, with soft breaks as needed.
    private static func encodeLine(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var length = 0
        for index in line.indices {
            let byte = line[index]
            let isLast = index == line.index(before: line.endIndex)
            let literal = switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): !isLast
            case UInt8(ascii: "="): false
            case 33...126: true
            default: false
            }
            let width = literal ? 1 : 3
            // The last piece may fill the line; any other must leave room for the soft break's `=`.
            if length + width > (isLast ? maximumLineLength : maximumLineLength - 1) {
                out.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\r"), UInt8(ascii: "\n")])
                length = 0
            }
            if literal {
                out.append(byte)
            } else {
                out.append(contentsOf: [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
            }
            length += width
        }
        out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }
}
