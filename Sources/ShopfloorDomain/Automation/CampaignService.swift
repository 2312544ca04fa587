import Foundation

/// Campaigns (API.md, Automation): one marketing message to every customer of a segment, from
/// `send_at`, throttled to ``batchSize`` customers a second. Each batch is one scheduler job that
/// reads the next customers of the segment after the campaign's cursor, queues their messages and
/// moves the cursor, so a restart carries on where it stopped and nobody gets the campaign twice.
/// Consent, suppressions, caps and quiet hours apply as in flows: a held message is queued for the
/// first moment it may go.
public final class CampaignService: Sendable {
    static let timer = "campaign"
    /// Customers handled per batch, one batch a second.
    public static let batchSize = 200

    private let store: any CampaignStore
    private let writer: any StoreWriter
    private let customers: CustomerService
    private let segments: SegmentService
    private let messages: MessageService
    private let reach: Reach
    private let scheduler: Scheduler
    private let clock: any WallClock
    private let shopName: String
    private let publicURL: String

    public init(stores: Stores, customers: CustomerService, segments: SegmentService, messages: MessageService, pricing: PricingService,
                scheduler: Scheduler, shopName: String, publicURL: String, clock: any WallClock) {
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        store = stores.campaigns
        writer = stores.writer
        self.customers = customers
        self.segments = segments
        self.messages = messages
        reach = Reach(messages: messages, push: stores.push, pricing: pricing)
        self.scheduler = scheduler
        self.clock = clock
        self.shopName = shopName
        scheduler.register(Self.timer) { [weak self] timer, transaction in try self?.sendBatch(CampaignID(rawValue: timer.ref), in: transaction) }
    }

    /// What `POST /v1/campaigns` gives.
    public struct Draft: Sendable {
        public var name: String?
        public var segment: String
        public var channel: MessageChannel
        public var template: String
        /// RFC 3339; now when absent or past.
        public var sendAt: String?

        public init(name: String?, segment: String, channel: MessageChannel, template: String, sendAt: String?) {
            self.name = name
            self.segment = segment
            self.channel = channel
            self.template = template
            self.sendAt = sendAt
        }
    }

    public func create(_ draft: Draft) async throws -> Campaign {
        var validator = Validator()
        validator.text(draft.name, "name", max: 200, required: false)
        validator.check(draft.name.map { !$0.allSatisfy(\.isWhitespace) } ?? true, "name", "must not be empty (leave it out for the segment's name)")
        validator.check(MessageTemplates.names.contains(draft.template), "template",
                        "must name a template: \(MessageTemplates.names.sorted().joined(separator: ", "))")
        let now = clock.now()
        var sendAt = now
        if let text = draft.sendAt {
            if let when = Timestamp.date(text), when.timeIntervalSince(now) <= 366 * 86_400 {
                sendAt = max(now, when)
            } else {
                validator.check(false, "send_at", "must be an RFC 3339 time within a year")
            }
        }
        try validator.throwIfAny()
        let segment = try segments.segment(SegmentID(rawValue: draft.segment))
        let stamp = Timestamp.string(now)
        let campaign = Campaign(
            id: .make(), name: draft.name ?? segment.name, segmentID: segment.id, channel: draft.channel, template: draft.template, status: .scheduled,
            sendAt: Timestamp.string(sendAt), cursor: 0, recipients: 0, passedOver: [:], startedAt: nil, finishedAt: nil, createdAt: stamp,
            updatedAt: stamp)
        let (store, scheduler, due) = (store, scheduler, sendAt.millisecondsSince1970)
        try await writer.write { transaction in
            try store.insert(campaign, in: transaction)
            try scheduler.schedule(Self.timer, key: Self.key(campaign.id), ref: campaign.id.rawValue, at: due, in: transaction)
        }
        return campaign
    }

    /// Stops a campaign not yet sent whole: no more batches, and its messages still queued (held by
    /// caps or quiet hours) are skipped (`campaign_cancelled`). One already sent or cancelled is as it was.
    public func cancel(_ id: CampaignID) async throws -> Campaign {
        let (store, scheduler, messages, stamp) = (store, scheduler, messages, clock.timestamp)
        return try await writer.write { transaction in
            guard var campaign = try store.campaign(id, in: transaction) else { throw AutomationError.campaignNotFound(id.rawValue) }
            guard campaign.status == .scheduled || campaign.status == .sending else { return campaign }
            campaign.status = .cancelled
            campaign.finishedAt = stamp
            campaign.updatedAt = stamp
            try store.update(campaign, in: transaction)
            try scheduler.cancel(Self.key(id), in: transaction)
            for (message, retryBase) in try messages.queued(campaign: id, in: transaction) {
                try messages.skip(message, retryBase: retryBase, reason: "campaign_cancelled", in: transaction)
            }
            return campaign
        }
    }

    public func campaign(_ id: CampaignID) throws -> Campaign {
        guard let campaign = try store.campaign(id) else { throw AutomationError.campaignNotFound(id.rawValue) }
        return campaign
    }

    public func campaigns(limit: Int, before: Int64?) throws -> Page<Campaign> {
        let limit = max(1, min(limit, 200))
        return Page(try store.campaigns(before: before ?? Int64.max, limit: limit + 1), limit: limit, position: \.position, item: \.campaign)
    }

    /// What became of the campaign's messages: `sent`, `failed`, `skipped`, `opened`, `clicked`,
    /// `converted`, `revenue`.
    public func outcomes(of id: CampaignID) throws -> [String: Int64] {
        try messages.outcomes(of: id.rawValue)[""] ?? [:]
    }

    private static func key(_ id: CampaignID) -> String { "campaign:\(id.rawValue)" }

    // MARK: Sending

    /// One batch: the next customers of the segment, each sent the message or passed over with why.
    private func sendBatch(_ id: CampaignID, in transaction: any WriteTransaction) throws {
        guard var campaign = try store.campaign(id, in: transaction), campaign.status == .scheduled || campaign.status == .sending else { return }
        let now = clock.now()
        let stamp = Timestamp.string(now)
        if campaign.status == .scheduled {
            campaign.status = .sending
            campaign.startedAt = stamp
        }
        campaign.updatedAt = stamp
        // Relative times in the segment are read as of the campaign's start, the same for every batch.
        let started = campaign.startedAt.flatMap(Timestamp.date) ?? now
        guard let filter = try? customers.filter(of: campaign.segmentID, at: started) else {
            campaign.status = .cancelled
            campaign.finishedAt = stamp
            campaign.passedOver["segment_deleted", default: 0] += 1
            return try store.update(campaign, in: transaction)
        }
        let rows = try segments.exportRows(filter, after: campaign.cursor, limit: Self.batchSize)
        for row in rows {
            campaign.recipients += 1
            if let reason = try send(campaign, to: CustomerID(rawValue: row.id), now: now, in: transaction) {
                campaign.passedOver[reason, default: 0] += 1
            }
        }
        campaign.cursor = rows.last?.position ?? campaign.cursor
        if rows.count < Self.batchSize {
            campaign.status = .sent
            campaign.finishedAt = stamp
        } else {
            try scheduler.schedule(Self.timer, key: Self.key(id), ref: id.rawValue, at: now.millisecondsSince1970 + 1000, in: transaction)
        }
        try store.update(campaign, in: transaction)
    }

    /// Queues the campaign's message to one customer; why not, if it is not.
    private func send(_ campaign: Campaign, to id: CustomerID, now: Date, in transaction: any WriteTransaction) throws -> String? {
        guard let customer = try customers.store.customer(id, in: transaction) else { return "no_recipient" }
        guard let (address, _) = try reach.recipient(campaign.channel, customer: customer, cart: nil, link: nil, in: transaction) else {
            return "no_recipient"
        }
        var draft = MessageService.Draft(
            channel: campaign.channel, recipient: address, template: campaign.template, locale: customer.locale,
            data: ["shop": ["name": shopName], "shop_url": "\(publicURL)/shop/",
                   "customer": customer.firstName.map { ["first_name": $0] } ?? [String: Any]()],
            customerID: id.rawValue, transactional: false, origin: MessageOrigin(campaignID: campaign.id))
        if let refusal = try messages.refusal(of: draft, in: transaction) { return refusal }
        draft.notBefore = try reach.earliest(campaign.channel, to: customer, now: now, in: transaction).at
        let message = try messages.queue(draft, in: transaction)
        return message.status == .queued ? nil : message.skipReason ?? "skipped"
    }
}
