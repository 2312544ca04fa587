/// The commands the client sends (RFC 5321 §4.1.1, RFC 3207, RFC 4954), each rendered as one line.
///
/// Arguments are checked before they get here (``MailAddress`` refuses CR, LF and spaces, the local
/// name is checked by ``SMTPClient``, AUTH data is base64), so a line can never become two.
enum SMTPCommand {
    case ehlo(String)
    case helo(String)
    case startTLS
    case auth(mechanism: String, initialResponse: String?)
    /// A line answering an AUTH challenge (a 334 reply).
    case authResponse(String)
    case mail(from: String, parameters: [String])
    case rcpt(to: String)
    case data
    case rset
    case quit

    /// The command's name for errors and logs: never its arguments, which may be credentials.
    var name: String {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .startTLS: "STARTTLS"
        case .auth, .authResponse: "AUTH"
        case .mail: "MAIL FROM"
        case .rcpt: "RCPT TO"
        case .data: "DATA"
        case .rset: "RSET"
        case .quit: "QUIT"
        }
    }

    /// The line as sent, CR LF included.
    var line: [UInt8] {
        let text = switch self {
        case .ehlo(let domain): "EHLO \(domain)"
        case .helo(let domain): "HELO \(domain)"
        case .startTLS: "STARTTLS"
        case .auth(let mechanism, let initialResponse): "AUTH \(mechanism)" + (initialResponse.map { " \($0)" } ?? "")
        case .authResponse(let response): response
        case .mail(let from, let parameters): "MAIL FROM:<\(from)>" + parameters.map { " \($0)" }.joined()
        case .rcpt(let to): "RCPT TO:<\(to)>"
        case .data: "DATA"
        case .rset: "RSET"
        case .quit: "QUIT"
        }
        return Array(text.utf8) + [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    }
}
