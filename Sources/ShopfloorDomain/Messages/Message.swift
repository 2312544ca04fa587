/// One outbound message in the outbox: written in the transaction of the change that causes it,
/// rendered then (so a later template edit or a crash does not change what the recipient gets), and
/// delivered afterwards, with retries, by ``DeliveryService``. Its id is its identity on the wire
/// (the email's `Message-ID`), so a re-send after a crash can be recognised as the same message.
public struct Message: Sendable, Equatable {
    public var id: MessageID
    public var channel: MessageChannel
    /// An email address, a phone number (E.164) or a push subscription's endpoint.
    public var recipient: String
    public var template: String
    public var subject: String?
    public var text: String
    public var html: String?
    /// Where a push notification leads when tapped (an order's tracking page).
    public var link: String?
    public var status: MessageStatus
    /// Delivery attempts made so far.
    public var attempts: Int
    /// When the next attempt is due (stored), and in milliseconds since 1970 (the delivery queue's key);
    /// `nil` once the message is settled.
    public var nextAttemptAt: String?
    public var nextAttemptAtMilliseconds: Int64?
    public var lastError: String?
    public var skipReason: String?
    public var customerID: String?
    public var orderID: OrderID?
    /// Marketing messages need the recipient's consent on the channel and carry a one-click unsubscribe;
    /// order and account messages are transactional and need neither.
    public var transactional: Bool
    public var createdAt: String
    public var updatedAt: String
    public var sentAt: String?
    /// The flow run and step that sent it, for a flow's message.
    public var origin: MessageOrigin?
    /// When its pixel was first loaded, and when one of its tracked links was first followed.
    public var openedAt: String?
    public var clickedAt: String?

    public init(id: MessageID, channel: MessageChannel, recipient: String, template: String, subject: String?, text: String, html: String?,
                link: String? = nil, status: MessageStatus, attempts: Int, nextAttemptAt: String?, nextAttemptAtMilliseconds: Int64?, lastError: String?,
                skipReason: String?, customerID: String?, orderID: OrderID?, transactional: Bool, createdAt: String, updatedAt: String,
                sentAt: String?, origin: MessageOrigin? = nil, openedAt: String? = nil, clickedAt: String? = nil) {
        self.origin = origin
        self.openedAt = openedAt
        self.clickedAt = clickedAt
        self.id = id
        self.channel = channel
        self.recipient = recipient
        self.template = template
        self.subject = subject
        self.text = text
        self.html = html
        self.link = link
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.nextAttemptAtMilliseconds = nextAttemptAtMilliseconds
        self.lastError = lastError
        self.skipReason = skipReason
        self.customerID = customerID
        self.orderID = orderID
        self.transactional = transactional
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sentAt = sentAt
    }
}

/// Where a flow's or campaign's message came from: what its delivery tells the run waiting for it,
/// and whose figures its outcomes (sent, opened, clicked, an order credited to it) add to.
public struct MessageOrigin: Sendable, Equatable {
    public var flowID: FlowID?
    public var runID: RunID?
    /// The flow step's path (``FlowDefinition/name(of:)``).
    public var step: String?
    public var campaignID: CampaignID?

    public init(flowID: FlowID, runID: RunID, step: String) {
        self.flowID = flowID
        self.runID = runID
        self.step = step
    }

    public init(campaignID: CampaignID) {
        self.campaignID = campaignID
    }

    public init(flowID: FlowID?, runID: RunID?, step: String?, campaignID: CampaignID?) {
        self.flowID = flowID
        self.runID = runID
        self.step = step
        self.campaignID = campaignID
    }

    /// The flow or campaign whose figures the message's outcomes count in.
    public var source: String { flowID?.rawValue ?? campaignID?.rawValue ?? "" }
}

public struct MessageID: EntityID {
    public static let prefix = "msg"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// How a message reaches its recipient.
public enum MessageChannel: String, Codable, Sendable, CaseIterable {
    case email, sms, push
}

/// Where a message stands (API.md, Messages). `sending` is never stored: a message being sent stays
/// `queued` in the store until its attempt is recorded, so a crash mid-send leaves it due again; the
/// API shows `sending` while ``DeliveryService/isSending(_:)``.
public enum MessageStatus: String, Codable, Sendable, CaseIterable {
    case queued, sending, sent, delivered, opened, clicked, failed, skipped

    /// Whether the outbox is done with it.
    public var isSettled: Bool { self != .queued && self != .sending }
}
