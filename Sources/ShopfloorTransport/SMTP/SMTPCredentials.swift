/// A user name and password for SMTP AUTH (RFC 4954).
///
/// The password stays out of every text form: `description`, `debugDescription`, and the mirror that
/// `dump` and the debugger read, so logging a configuration cannot leak it.
public struct SMTPCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let user: String
    public let password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    public var description: String { "SMTPCredentials(user: \(user.debugDescription), password: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["user": user, "password": "<redacted>"]) }
}
