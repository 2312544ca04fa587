/// A mailbox: an address and an optional display name (RFC 5322 §3.4).
///
/// The address is checked when made, so it can go into `MAIL FROM:<…>`, `RCPT TO:<…>` and a header
/// unchanged: a dot-atom local part and a domain of dot-separated labels (RFC 5321 §4.1.2), UTF-8
/// allowed in both (RFC 6531, sent only to servers that offer SMTPUTF8). Quoted local parts and
/// address literals are refused: no shop mails them, and each is a way to smuggle spaces or brackets.
/// The display name may be any text; the header encoder quotes or encodes it.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public let address: String
    /// `nil` for none; an empty name counts as none.
    public let displayName: String?

    public init(_ address: String, displayName: String? = nil) throws(MailError) {
        guard Self.isValid(address) else { throw .invalidAddress(address) }
        self.address = address
        self.displayName = displayName.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the address is plain ASCII; if not, it needs SMTPUTF8.
    var isASCII: Bool { address.utf8.allSatisfy { $0 < 0x80 } }

    /// For logs: the display name quoted and escaped, so a line break in it cannot forge a log line.
    public var description: String { displayName.map { "\($0.debugDescription) <\(address)>" } ?? address }

    /// RFC 5322 §3.2.3 `atext`: the characters of a dot-atom besides dots; bytes of UTF-8 sequences
    /// too (C1 controls, U+0080 to U+009F, are refused separately).
    static func isAtomText(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case 0x80...0xFF: true
        default: "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    private static func isValid(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")), bytes.count <= 254,
              !address.unicodeScalars.contains(where: { (0x80...0x9F).contains($0.value) }) else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64, !domain.isEmpty, domain.count <= 253 else { return false }
        let localAtoms = local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard localAtoms.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isAtomText) }) else { return false }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { byte in
                    switch byte {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                         UInt8(ascii: "-"), 0x80...0xFF: true
                    default: false
                    }
                }
        }
    }
}
