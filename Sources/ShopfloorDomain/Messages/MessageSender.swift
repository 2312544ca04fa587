/// One delivery channel as the outbox sees it: the SMTP mailer, the push service client, the SMS
/// gateway. It makes one attempt and says how it went; the ``DeliveryService`` decides what follows.
public protocol MessageSender: Sendable {
    func send(_ message: Message) async -> DeliveryResult
    /// Ends the channel's connections; called once, after the last send.
    func close()
}

extension MessageSender {
    public func close() {}
}

/// How one attempt went.
public enum DeliveryResult: Sendable, Equatable {
    /// Accepted by the receiving server; the detail is its answer (a queue id, say).
    case sent(String)
    /// Worth trying again later (a 4xx from a mail server, a 5xx, 429 or timeout from an HTTP one),
    /// not before `retryAfter` when the receiver said so.
    case temporary(String, retryAfter: Duration?)
    /// Never going to work (a 5xx from a mail server, a 4xx from an HTTP one).
    case permanent(String)
    /// The recipient's address itself was refused (a 5xx on `RCPT`): permanent, and the address is
    /// not worth mailing again.
    case bounced(String)
}
