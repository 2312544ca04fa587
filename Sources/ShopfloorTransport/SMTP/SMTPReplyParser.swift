/// Assembles a reply from the lines a server sends (RFC 5321 §4.2); pure, so it is tested line by line
/// without a socket.
///
///     Reply-line = *( Reply-code "-" [ textstring ] CRLF )
///                  Reply-code [ SP textstring ] CRLF
///     Reply-code = %x32-35 %x30-35 %x30-39
///
/// Every line of a reply repeats its code; the last one has a space (or nothing) after the code. Lines
/// arrive without CR LF (``ClientConnection/readLine(maxLength:timeout:)`` strips them and enforces
/// ``maximumLineLength``). Anything else is ``SMTPError/protocolViolation(_:)``: a client that guessed
/// at a broken reply could take a refusal for an acceptance.
struct SMTPReplyParser {
    /// The longest line accepted, not counting CR LF: 1000 octets with it, the limit of a text line
    /// (§4.5.3.1.6). Replies should stay within 512 (§4.5.3.1.5); real servers' EHLO lines do not always.
    static let maximumLineLength = 998
    /// The most lines one reply may have; a long EHLO list has some twenty.
    static let maximumLines = 100

    private var code: Int?
    private var lines: [String] = []

    /// Takes the next line: the whole reply once its last line has come, else `nil`.
    mutating func parse(line: [UInt8]) throws(SMTPError) -> SMTPReply? {
        guard line.count <= Self.maximumLineLength else {
            throw .protocolViolation("reply line longer than \(Self.maximumLineLength) bytes")
        }
        guard line.count >= 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0]),
              (UInt8(ascii: "0")...UInt8(ascii: "5")).contains(line[1]),
              (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[2]) else {
            throw .protocolViolation("malformed reply line \(Self.quoted(line))")
        }
        let lineCode = line[0..<3].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let isLast: Bool
        switch line.count > 3 ? line[3] : UInt8(ascii: " ") {
        case UInt8(ascii: " "): isLast = true
        case UInt8(ascii: "-"): isLast = false
        default: throw .protocolViolation("malformed reply line \(Self.quoted(line))")
        }
        if let code, code != lineCode {
            throw .protocolViolation("reply line with code \(lineCode) inside a reply with code \(code)")
        }
        guard lines.count < Self.maximumLines else {
            throw .protocolViolation("reply longer than \(Self.maximumLines) lines")
        }
        code = lineCode
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        guard isLast else { return nil }
        let reply = SMTPReply(code: lineCode, lines: lines)
        self = SMTPReplyParser()
        return reply
    }

    /// The start of a bad line for an error message, escaped so it cannot forge log lines.
    private static func quoted(_ line: [UInt8]) -> String {
        String(decoding: line.prefix(64), as: UTF8.self).debugDescription
    }
}
