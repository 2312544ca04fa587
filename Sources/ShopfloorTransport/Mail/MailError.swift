/// Why a message could not be built. Values are quoted escaped (`debugDescription`), so a rejected
/// CR LF shows as `\r\n` in a log, never as a line break.
public enum MailError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a `local@domain` address of dot-atoms (RFC 5321 §4.1.2, UTF-8 allowed as RFC 6531 says).
    case invalidAddress(String)
    /// A message needs at least one recipient.
    case noRecipients
    /// Not `left@right` in printable ASCII without spaces or angle brackets (RFC 5322 §3.6.4).
    case invalidMessageID(String)
    /// Empty, or a character outside printable ASCII, or a colon (RFC 5322 §3.6.8 `ftext`).
    case invalidHeaderName(String)
    /// A field the message writes itself (`From`, `Content-Type`, …), or `Cc`/`Bcc`, which would name
    /// people the envelope never reaches.
    case reservedHeaderName(String)
    /// A value holding CR, LF, another control character or a non-ASCII one.
    case invalidHeaderValue(name: String)
    /// A value with a word too long for a 998-octet line (RFC 5322 §2.1.1) even when folded.
    case headerTooLong(name: String)

    public var description: String {
        switch self {
        case .invalidAddress(let address): "invalid address \(address.debugDescription)"
        case .noRecipients: "no recipients"
        case .invalidMessageID(let id): "invalid Message-ID \(id.debugDescription)"
        case .invalidHeaderName(let name): "invalid header name \(name.debugDescription)"
        case .reservedHeaderName(let name): "header \(name.debugDescription) is set by the message itself"
        case .invalidHeaderValue(let name): "invalid value for header \(name.debugDescription)"
        case .headerTooLong(let name): "value of header \(name.debugDescription) cannot be folded into 998-octet lines"
        }
    }
}
