/// The message as it goes out after DATA (RFC 5321 §4.5.2, §2.3.8, §4.1.1.4).
///
/// Every line ends in CR LF (a bare CR or LF becomes one: the RFC forbids them on the wire), a line that
/// starts with "." gets a second one, which the server removes ("transparency"), and a line holding
/// only "." ends the data. Without the doubling, a body line "." would end the message early and the
/// rest would be read as commands.
enum SMTPDataEncoder {
    static func encode(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 5)
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                if byte == UInt8(ascii: "\r"), index < message.count, message[index] == UInt8(ascii: "\n") { index += 1 }
                out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
                atLineStart = true
            default:
                if atLineStart, byte == UInt8(ascii: ".") { out.append(byte) }
                out.append(byte)
                atLineStart = false
            }
        }
        if !atLineStart { out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")]) }
        out.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        return out
    }
}
