/// The outbox: messages, the attempts made to deliver them, and the shop's edits of the shipped
/// templates. Written only inside a writer transaction, so a message commits with its cause.
public protocol MessageStore: Sendable {
    func insert(_ message: Message, in transaction: any WriteTransaction) throws
    /// Stores the message's delivery state: status, attempts, next attempt, last error, skip reason,
    /// when it was sent, and where its retry schedule starts.
    func update(_ message: Message, retryBase: Int, in transaction: any WriteTransaction) throws
    func recordAttempt(_ attempt: MessageAttempt, in transaction: any WriteTransaction) throws

    func message(_ id: MessageID) throws -> Message?
    func message(_ id: MessageID, in transaction: any WriteTransaction) throws -> (message: Message, retryBase: Int)?
    /// Messages matching `filter` whose position is below `before`, newest first.
    func messages(_ filter: MessageFilter, before: Int64, limit: Int) throws -> [(position: Int64, message: Message)]
    /// Queued messages of `channel` due at or before `milliseconds`, earliest first.
    func due(channel: MessageChannel, at milliseconds: Int64, limit: Int) throws -> [(message: Message, retryBase: Int)]
    /// The attempts made for a message, oldest first.
    func attempts(of id: MessageID) throws -> [MessageAttempt]

    /// Marks an address as one not to send to again; a bounce replaces an unsubscribe (it stops more),
    /// otherwise an address already marked keeps its first record.
    func suppress(_ suppression: Suppression, in transaction: any WriteTransaction) throws
    /// Whether a message to `address` is not to be sent: a bounce stops every message, an unsubscribe
    /// only marketing (not `transactional`) ones.
    func isSuppressed(_ address: String, channel: MessageChannel, transactional: Bool, in transaction: any WriteTransaction) throws -> Bool
    /// Every suppressed address, newest first.
    func suppressions() throws -> [Suppression]
    /// Lifts the suppression of an address; `false` when there was none.
    func unsuppress(_ address: String, channel: MessageChannel, in transaction: any WriteTransaction) throws -> Bool

    /// When the customer's latest marketing message on any of `channels` went or is due to go
    /// (failed and skipped ones aside): what caps count from.
    func lastMarketing(customer: String, channels: [MessageChannel], in transaction: any WriteTransaction) throws -> String?
    /// The messages still queued of one flow run (`run_id`) or campaign (`campaign_id`).
    func queued(of origin: QueuedOrigin, in transaction: any WriteTransaction) throws -> [(message: Message, retryBase: Int)]

    /// Stores a message's status and when it was first opened and clicked.
    func setEngagement(_ message: Message, in transaction: any WriteTransaction) throws
    /// The customer's flow message clicked most recently since `clickedSince`, else opened most
    /// recently since `openedSince`: what an order of theirs is credited to.
    func lastEngaged(customer: String, clickedSince: String, openedSince: String, in transaction: any WriteTransaction) throws -> Message?

    /// Adds to the figures of a flow step or campaign (`source`, `step` empty for a campaign) what
    /// became of one of its messages: `sent`, `failed`, `skipped`, `opened`, `clicked`, `converted`,
    /// `revenue` (minor units).
    func countOutcome(_ outcome: String, source: String, step: String, amount: Int64, in transaction: any WriteTransaction) throws
    /// A flow's or campaign's figures, by step then outcome.
    func outcomes(of source: String) throws -> [String: [String: Int64]]
    /// Credits an order to the message that led to it; `false` when the order is credited already.
    func credit(order: OrderID, to message: Message, amount: Money, at: String, in transaction: any WriteTransaction) throws -> Bool

    /// The shop's versions of templates, by name and locale.
    func templateOverrides() throws -> [TemplateText]
    func saveTemplate(_ template: TemplateText, in transaction: any WriteTransaction) throws
}

/// Whose queued messages to find: a flow run's or a campaign's.
public enum QueuedOrigin: Sendable {
    case run(RunID)
    case campaign(CampaignID)
}

/// Filters of `GET /v1/messages`; all optional.
public struct MessageFilter: Sendable {
    public var channel: MessageChannel?
    public var status: MessageStatus?
    public var customerID: String?
    public var orderID: OrderID?

    public init(channel: MessageChannel? = nil, status: MessageStatus? = nil, customerID: String? = nil, orderID: OrderID? = nil) {
        self.channel = channel
        self.status = status
        self.customerID = customerID
        self.orderID = orderID
    }
}

/// One try at delivering a message, kept for the record.
public struct MessageAttempt: Sendable, Equatable {
    public var messageID: MessageID
    /// 1 for the first attempt.
    public var number: Int
    public var at: String
    public var outcome: Outcome
    /// What the receiving server said, or why the attempt failed.
    public var detail: String

    public enum Outcome: String, Sendable, Codable {
        case sent, temporaryFailure = "temporary_failure", permanentFailure = "permanent_failure"
    }

    public init(messageID: MessageID, number: Int, at: String, outcome: Outcome, detail: String) {
        self.messageID = messageID
        self.number = number
        self.at = at
        self.outcome = outcome
        self.detail = detail
    }
}

/// An address messages no longer go to: its mail server refused the recipient (`bounced`, a 5xx on
/// `RCPT`: no message at all), or its owner used a marketing email's one-click unsubscribe
/// (`unsubscribed`: no marketing). New messages it stops are recorded as skipped (`undeliverable`,
/// `unsubscribed`) until an admin lifts it.
public struct Suppression: Sendable, Equatable {
    public var address: String
    public var channel: MessageChannel
    public var reason: String
    /// What the receiving server said.
    public var detail: String
    /// The message that bounced.
    public var messageID: MessageID?
    public var createdAt: String

    public init(address: String, channel: MessageChannel, reason: String, detail: String, messageID: MessageID?, createdAt: String) {
        self.address = address
        self.channel = channel
        self.reason = reason
        self.detail = detail
        self.messageID = messageID
        self.createdAt = createdAt
    }
}
