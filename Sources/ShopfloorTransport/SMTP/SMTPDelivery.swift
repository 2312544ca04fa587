/// A message the server accepted: its final reply, which names the queue entry on most servers
/// (`250 2.0.0 Ok: queued as 4F1A2B3C`), for the operator who traces a message later.
public struct SMTPDelivery: Sendable {
    /// The reply to the end of the data.
    public let reply: SMTPReply
    /// The address the connection reached.
    public let peer: SocketAddress
    /// Whether the message went over a connection that an earlier message had opened.
    public let reusedConnection: Bool

    /// The reply's text, e.g. `2.0.0 Ok: queued as 4F1A2B3C`.
    public var text: String { reply.text }
}
