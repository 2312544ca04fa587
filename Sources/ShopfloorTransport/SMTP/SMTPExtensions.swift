/// What a server announced in its EHLO reply (RFC 5321 §4.1.1.1): one keyword per line after the
/// first, with optional parameters, compared without regard to case.
///
/// Learned anew after STARTTLS: RFC 3207 §4.2 has the client forget what it heard in the clear, which
/// an attacker could have written (removing STARTTLS, adding AUTH PLAIN).
struct SMTPExtensions: Equatable {
    /// STARTTLS (RFC 3207).
    var startTLS = false
    /// PIPELINING (RFC 2920): MAIL FROM and the RCPT TOs may go out together.
    var pipelining = false
    /// SMTPUTF8 (RFC 6531): addresses and header fields may be UTF-8.
    var smtpUTF8 = false
    /// 8BITMIME (RFC 6152): the message may hold bytes above 127.
    var eightBitMIME = false
    /// SASL mechanisms after AUTH (RFC 4954 §3), upper-cased.
    var authMechanisms: Set<String> = []
    /// The fixed size limit of SIZE (RFC 1870 §4), if the server gave one; `SIZE 0` or a bare `SIZE` is none.
    var sizeLimit: Int?

    /// A server that answered HELO: no extensions.
    init() {}

    init(ehloReply reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = words.first?.uppercased() else { continue }
            let parameters = words.dropFirst()
            switch keyword {
            case "STARTTLS": startTLS = true
            case "PIPELINING": pipelining = true
            case "SMTPUTF8": smtpUTF8 = true
            case "8BITMIME": eightBitMIME = true
            case "AUTH": authMechanisms.formUnion(parameters.map { $0.uppercased() })
            case "SIZE": sizeLimit = parameters.first.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
            default:
                // Some servers still announce `AUTH=PLAIN LOGIN`, the form of a draft before RFC 4954.
                if keyword.hasPrefix("AUTH=") {
                    authMechanisms.insert(String(keyword.dropFirst(5)))
                    authMechanisms.formUnion(parameters.map { $0.uppercased() })
                }
            }
        }
    }
}
