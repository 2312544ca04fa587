/// A server's reply to one command (RFC 5321 §4.2): a three-digit code and the text of each line.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    /// The reply code, 200 to 559; its first digit is the outcome (§4.2.1).
    public let code: Int
    /// Each line's text after the code and its separator; at least one, possibly empty.
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The lines joined by spaces, as an operator would read them in a log.
    public var text: String { lines.joined(separator: " ") }

    /// 2yz: the command succeeded.
    public var isPositiveCompletion: Bool { code / 100 == 2 }
    /// 4yz: failed this time; the same command may succeed later.
    public var isTransientFailure: Bool { code / 100 == 4 }
    /// 5yz: failed, and repeating it unchanged will fail again.
    public var isPermanentFailure: Bool { code / 100 == 5 }

    public var description: String { "\(code) \(text)" }
}
