/// One message to a segment (API.md, Automation, Campaigns): sent from `send_at` in throttled
/// batches, through the segment's customers in order, each honouring consent, caps and quiet hours.
public struct Campaign: Sendable, Equatable {
    public var id: CampaignID
    public var name: String
    public var segmentID: SegmentID
    public var channel: MessageChannel
    public var template: String
    public var status: CampaignStatus
    public var sendAt: String
    /// The position of the last customer of the segment handled.
    public var cursor: Int64
    /// Customers of the segment handled so far.
    public var recipients: Int
    /// Of those, how many got no message, by why: `no_recipient`, `not_consented`, `unsubscribed`…
    public var passedOver: [String: Int]
    public var startedAt: String?
    public var finishedAt: String?
    public var createdAt: String
    public var updatedAt: String

    public init(id: CampaignID, name: String, segmentID: SegmentID, channel: MessageChannel, template: String, status: CampaignStatus,
                sendAt: String, cursor: Int64, recipients: Int, passedOver: [String: Int], startedAt: String?, finishedAt: String?,
                createdAt: String, updatedAt: String) {
        self.id = id
        self.name = name
        self.segmentID = segmentID
        self.channel = channel
        self.template = template
        self.status = status
        self.sendAt = sendAt
        self.cursor = cursor
        self.recipients = recipients
        self.passedOver = passedOver
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public enum CampaignStatus: String, Sendable, Codable, CaseIterable {
    case scheduled, sending, sent, cancelled
}

public struct CampaignID: EntityID {
    public static let prefix = "cmp"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Campaigns in storage.
public protocol CampaignStore: Sendable {
    func insert(_ campaign: Campaign, in transaction: any WriteTransaction) throws
    func update(_ campaign: Campaign, in transaction: any WriteTransaction) throws
    func campaign(_ id: CampaignID, in transaction: any WriteTransaction) throws -> Campaign?
    func campaign(_ id: CampaignID) throws -> Campaign?
    /// Campaigns whose position is below `before`, newest first.
    func campaigns(before: Int64, limit: Int) throws -> [(position: Int64, campaign: Campaign)]
}
