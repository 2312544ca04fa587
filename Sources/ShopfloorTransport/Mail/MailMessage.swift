#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import ShopfloorCrypto

/// An email (RFC 5322): a plain-text body, and optionally an HTML one offered as its alternative
/// (`multipart/alternative`, text first, as RFC 2046 §5.1.4 orders from plainest to richest).
///
/// Everything is checked in `init`, so ``rendered()`` cannot fail and no value can add a header line
/// or end one early: addresses are checked by ``MailAddress``, subject and display names that are not
/// printable ASCII become RFC 2047 encoded words, extra fields must have a valid name and a printable
/// ASCII value, and bodies are quoted-printable. The result is 7-bit unless an address is UTF-8.
///
/// The caller gives `messageID` and `date`, so a message sent again after a crash is the same message
/// (same `Message-ID`, same bytes: the MIME boundary is derived from the id), which lets receivers and
/// the caller's own log recognise the duplicate.
public struct MailMessage: Sendable {
    public let from: MailAddress
    public let to: [MailAddress]
    public let subject: String
    public let text: String
    public let html: String?
    /// Without angle brackets: `order-42.7f3c@shop.example`.
    public let messageID: String
    public let date: Date
    /// Extra fields in order, such as `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058).
    public let headers: [(name: String, value: String)]

    private let extraFields: [String]

    /// Fields the message writes itself; `Cc` and `Bcc` because the envelope goes to `to` alone.
    private static let reservedNames: Set<String> = [
        "date", "from", "to", "cc", "bcc", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding",
    ]

    /// - Parameters:
    ///   - messageID: `left@right`, with or without angle brackets, each side a dot-atom.
    ///   - headers: extra fields; names are RFC 5322 field names, values printable ASCII (long ones
    ///     are folded at their spaces).
    public init(
        from: MailAddress, to: [MailAddress], subject: String, text: String, html: String? = nil,
        messageID: String, date: Date, headers: [(name: String, value: String)] = []
    ) throws(MailError) {
        guard !to.isEmpty else { throw .noRecipients }
        let id = messageID.hasPrefix("<") && messageID.hasSuffix(">") && messageID.count >= 2
            ? String(messageID.dropFirst().dropLast()) : messageID
        guard Self.isValidMessageID(id) else { throw .invalidMessageID(messageID) }
        var extraFields: [String] = []
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.count <= 76,
                  name.utf8.allSatisfy({ (33...126).contains($0) && $0 != UInt8(ascii: ":") }) else {
                throw .invalidHeaderName(name)
            }
            guard !Self.reservedNames.contains(name.lowercased()) else { throw .reservedHeaderName(name) }
            guard value.utf8.allSatisfy({ (0x20...0x7E).contains($0) || $0 == UInt8(ascii: "\t") }) else {
                throw .invalidHeaderValue(name: name)
            }
            guard let field = MailHeaderEncoder.folded(name, value) else { throw .headerTooLong(name: name) }
            extraFields.append(field)
        }
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = id
        self.date = date
        self.headers = headers
        self.extraFields = extraFields
    }

    /// The whole message as DATA carries it before dot-stuffing: header fields, a blank line, the body;
    /// CR LF line endings, no line over 998 octets.
    public func rendered() -> [UInt8] {
        var head = MailHeaderEncoder.line("Date", MailDate.format(date))
        head += MailHeaderEncoder.mailboxes("From", [from])
        head += MailHeaderEncoder.mailboxes("To", to)
        head += MailHeaderEncoder.unstructured("Subject", subject)
        head += MailHeaderEncoder.line("Message-ID", "<\(messageID)>")
        head += MailHeaderEncoder.line("MIME-Version", "1.0")
        head += extraFields.joined()
        var out = Array(head.utf8)
        guard let html else {
            Self.appendPart(type: "text/plain", body: text, to: &out)
            return out
        }
        out += Array(MailHeaderEncoder.line("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"").utf8)
        out += Array("\r\n".utf8)
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            out += Array("--\(boundary)\r\n".utf8)
            Self.appendPart(type: type, body: body, to: &out)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// `=_` and 32 hex digits of the id's SHA-256. Quoted-printable never writes `=_` (after `=` comes
    /// a hex digit or CR LF), and the part headers do not either, so the boundary cannot occur in the
    /// parts (RFC 2046 §5.1.1).
    private var boundary: String {
        let digits = Array("0123456789abcdef".utf8)
        let hex = Digest.sha256(Array(messageID.utf8)).prefix(16).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }
        return "=_" + String(decoding: hex, as: UTF8.self)
    }

    /// Content fields, a blank line, and the body as quoted-printable (at least an empty line, so the
    /// blank line is not taken for the boundary's leading CR LF).
    private static func appendPart(type: String, body: String, to out: inout [UInt8]) {
        out += Array(MailHeaderEncoder.line("Content-Type", "\(type); charset=utf-8").utf8)
        out += Array(MailHeaderEncoder.line("Content-Transfer-Encoding", "quoted-printable").utf8)
        out += Array("\r\n".utf8)
        let encoded = QuotedPrintableEncoder.encode(body)
        out += encoded.isEmpty ? Array("\r\n".utf8) : encoded
    }

    /// `left@right`, each side a dot-atom of ASCII `atext` (RFC 5322 §3.6.4 `id-left`, `id-right`).
    private static func isValidMessageID(_ id: String) -> Bool {
        let sides = id.utf8.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard sides.count == 2, id.utf8.count <= 250 else { return false }
        return sides.allSatisfy { side in
            side.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
                .allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 < 0x80 && MailAddress.isAtomText($0) } }
        }
    }
}
