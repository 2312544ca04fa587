public import Foundation

/// The outbox's front: queues messages inside the transaction of the change that causes them, lists
/// them, retries one by hand, and keeps the templates. Delivery is the ``DeliveryService``'s.
public final class MessageService: Sendable {
    let store: any MessageStore
    private let customers: any CustomerStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let clock: any WallClock
    public let templates: MessageTemplates
    /// Channels that can deliver: a message for any other is recorded as skipped, not queued.
    private let available: Set<MessageChannel>
    /// Tracks the links of flow messages, when the server has a key for them.
    public let links: TrackingLinks?
    /// Messages the ``DeliveryService`` is sending now, which a skip leaves alone.
    let inFlight = InFlightClaims<MessageID, MessageChannel>()

    public init(stores: Stores, events: EventLog, available: Set<MessageChannel>, links: TrackingLinks? = nil,
                clock: any WallClock = SystemClock()) throws {
        self.links = links
        store = stores.messages
        customers = stores.customers
        writer = stores.writer
        self.events = events
        self.clock = clock
        self.available = available
        templates = try MessageTemplates(overrides: try stores.messages.templateOverrides())
    }

    // MARK: Queueing (inside the cause's transaction)

    /// What a change wants sent: rendered from `template` with `data` when queued.
    public struct Draft {
        public var channel: MessageChannel
        public var recipient: String
        public var template: String
        public var locale: String?
        public var data: [String: Any]
        /// Where a push notification leads.
        public var link: String?
        public var customerID: String?
        public var orderID: OrderID?
        public var transactional: Bool
        /// Not to be sent before this (a capped or quiet-hour flow message); now when `nil`.
        public var notBefore: Date?
        /// The flow run and step sending it.
        public var origin: MessageOrigin?

        public init(channel: MessageChannel, recipient: String, template: String, locale: String? = nil, data: [String: Any], link: String? = nil,
                    customerID: String? = nil, orderID: OrderID? = nil, transactional: Bool, notBefore: Date? = nil, origin: MessageOrigin? = nil) {
            self.notBefore = notBefore
            self.origin = origin
            self.channel = channel
            self.recipient = recipient
            self.template = template
            self.locale = locale
            self.data = data
            self.link = link
            self.customerID = customerID
            self.orderID = orderID
            self.transactional = transactional
        }
    }

    /// Renders and stores `draft` in `transaction`: due at once, or skipped (with its event) when its
    /// channel cannot deliver. Email gets the subject, text and HTML parts; SMS the short part (or the
    /// text part without one); push the subject as its title and the short part as its body. Leaves a ``MessageQueued`` note, so the delivery service wakes once the
    /// transaction is durable.
    @discardableResult
    public func queue(_ draft: Draft, in transaction: any WriteTransaction) throws -> Message {
        let rendered = try templates.render(draft.template, locale: draft.locale, data: draft.data)
        let now = clock.now()
        let stamp = Timestamp.string(now)
        let due = max(now, draft.notBefore ?? now)
        let skipReason = try refusal(of: draft, in: transaction)
        let deliverable = skipReason == nil
        let isEmail = draft.channel == .email
        var message = Message(
            id: .make(), channel: draft.channel, recipient: draft.recipient, template: draft.template,
            subject: draft.channel == .sms ? nil : rendered.subject, text: isEmail ? rendered.text : rendered.short ?? rendered.text,
            html: isEmail ? rendered.html : nil, link: draft.link, status: deliverable ? .queued : .skipped, attempts: 0,
            nextAttemptAt: deliverable ? Timestamp.string(due) : nil, nextAttemptAtMilliseconds: deliverable ? due.millisecondsSince1970 : nil,
            lastError: nil, skipReason: skipReason, customerID: draft.customerID, orderID: draft.orderID,
            transactional: draft.transactional, createdAt: stamp, updatedAt: stamp, sentAt: nil, origin: draft.origin)
        if draft.origin != nil, let links { message = links.tracked(message) }
        try store.insert(message, in: transaction)
        if deliverable {
            transaction.transactionNotes.append(MessageQueued(channel: draft.channel))
        } else {
            try Self.appendEvent("message.skipped", for: message, to: events, store: store, in: transaction)
        }
        return message
    }

    /// Why `draft` would not be sent, or `nil` when it would: its channel has no sender
    /// (`channel_unavailable`), its address is suppressed (`undeliverable` after a bounce,
    /// `unsubscribed` for marketing), or it is marketing to someone not subscribed (`not_consented`).
    public func refusal(of draft: Draft, in transaction: any WriteTransaction) throws -> String? {
        if !available.contains(draft.channel) { return "channel_unavailable" }
        if try store.isSuppressed(draft.recipient, channel: draft.channel, transactional: draft.transactional, in: transaction) {
            return draft.transactional ? "undeliverable" : "unsubscribed"
        }
        if !draft.transactional, try !mayMarket(draft, in: transaction) { return "not_consented" }
        return nil
    }

    /// Why a queued message must not go now: as ``refusal(of:in:)`` for the draft it was made from.
    public func refusal(of message: Message, in transaction: any WriteTransaction) throws -> String? {
        try refusal(of: Draft(channel: message.channel, recipient: message.recipient, template: message.template, data: [:],
                              customerID: message.customerID, orderID: message.orderID, transactional: message.transactional),
                    in: transaction)
    }

    /// Whether the server can send on `channel` at all.
    public func isAvailable(_ channel: MessageChannel) -> Bool {
        available.contains(channel)
    }

    /// When the customer's latest marketing message on `channels` went, or is due to go.
    public func lastMarketing(to customer: CustomerID, on channels: [MessageChannel], in transaction: any WriteTransaction) throws -> Date? {
        try store.lastMarketing(customer: customer.rawValue, channels: channels, in: transaction).flatMap(Timestamp.date)
    }

    /// Settles a queued message as skipped for `reason` (its flow run ended or moved on), with its event;
    /// `false`, changing nothing, when its attempt is under way.
    @discardableResult
    public func skip(_ message: Message, retryBase: Int, reason: String, in transaction: any WriteTransaction) throws -> Bool {
        // Its attempt is under way and will be recorded as it went: skipping now would let a fallback send twice.
        guard !inFlight.contains(message.id) else { return false }
        var skipped = message
        skipped.status = .skipped
        skipped.skipReason = reason
        skipped.nextAttemptAt = nil
        skipped.nextAttemptAtMilliseconds = nil
        skipped.updatedAt = clock.timestamp
        try store.update(skipped, retryBase: retryBase, in: transaction)
        try Self.appendEvent("message.skipped", for: skipped, to: events, store: store, in: transaction)
        return true
    }

    // MARK: Engagement

    /// How a recipient engaged with a message.
    public enum Engagement: String, Sendable {
        case opened, clicked
    }

    /// Records the first open (the pixel) or click (a tracked link) of a message, with its
    /// `message.opened` or `message.clicked` event; a click counts as an open too. Later ones change
    /// nothing. `false` when there is no such message.
    @discardableResult
    public func engaged(_ id: MessageID, _ engagement: Engagement) async throws -> Bool {
        let (store, events, stamp) = (store, events, clock.timestamp)
        return try await writer.write { transaction in
            guard var message = try store.message(id, in: transaction)?.message else { return false }
            var happened: [String] = []
            if message.openedAt == nil {
                message.openedAt = stamp
                happened.append("message.opened")
            }
            if engagement == .clicked, message.clickedAt == nil {
                message.clickedAt = stamp
                happened.append("message.clicked")
            }
            guard !happened.isEmpty else { return true }
            if [.sent, .delivered, .opened].contains(message.status) { message.status = message.clickedAt != nil ? .clicked : .opened }
            message.updatedAt = stamp
            try store.setEngagement(message, in: transaction)
            for type in happened { try Self.appendEvent(type, for: message, to: events, store: store, in: transaction) }
            return true
        }
    }

    /// Credits an order just placed to the customer's flow or campaign message clicked last within
    /// 5 days, else opened last within a day: `converted` and `revenue` of that step or campaign.
    /// Called in the order's own transaction; an order is credited once.
    func credit(_ order: Order, in transaction: any WriteTransaction) throws {
        guard let customer = order.customerID else { return }
        let now = clock.now()
        guard let message = try store.lastEngaged(customer: customer, clickedSince: Timestamp.string(now.addingTimeInterval(-5 * 86_400)),
                                                  openedSince: Timestamp.string(now.addingTimeInterval(-86_400)), in: transaction),
              let origin = message.origin,
              try store.credit(order: order.id, to: message, amount: order.totals.total, at: Timestamp.string(now), in: transaction) else { return }
        try store.countOutcome("converted", source: origin.source, step: origin.step ?? "", amount: 1, in: transaction)
        try store.countOutcome("revenue", source: origin.source, step: origin.step ?? "", amount: order.totals.total.amount, in: transaction)
    }

    /// A flow's or campaign's message figures, by step then outcome.
    public func outcomes(of source: String) throws -> [String: [String: Int64]] {
        try store.outcomes(of: source)
    }

    /// A flow run's messages still queued.
    public func queued(run: RunID, in transaction: any WriteTransaction) throws -> [(message: Message, retryBase: Int)] {
        try store.queued(of: .run(run), in: transaction)
    }

    /// A campaign's messages still queued.
    public func queued(campaign: CampaignID, in transaction: any WriteTransaction) throws -> [(message: Message, retryBase: Int)] {
        try store.queued(of: .campaign(campaign), in: transaction)
    }

    /// A message as the writer's transaction sees it.
    public func message(_ id: MessageID, in transaction: any WriteTransaction) throws -> Message? {
        try store.message(id, in: transaction)?.message
    }

    /// Whether marketing may go to a draft's recipient: only to a customer subscribed on its channel
    /// (the customer it names, else the one with its address).
    private func mayMarket(_ draft: Draft, in transaction: any WriteTransaction) throws -> Bool {
        guard let channel = ConsentChannel(rawValue: draft.channel.rawValue) else { return false }
        let customer: Customer? = if let id = draft.customerID {
            try customers.customer(CustomerID(rawValue: id), in: transaction)
        } else {
            switch channel {
            case .email: try ContactAddress.email(draft.recipient).flatMap { try customers.customer(email: $0, in: transaction) }
            case .sms: try ContactAddress.phone(draft.recipient).flatMap { try customers.customer(phone: $0, in: transaction) }
            case .push: nil
            }
        }
        return customer?.consent[channel]?.state == .subscribed
    }

    // MARK: Reads

    public func message(_ id: MessageID) throws -> Message? {
        try store.message(id)
    }

    /// Messages matching `filter`, newest first, a page at a time (the cursor is the last one's position).
    public func messages(_ filter: MessageFilter, limit: Int, before: Int64?) throws -> Page<Message> {
        let limit = max(1, min(limit, 200))
        let found = try store.messages(filter, before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: \.message)
    }

    public func attempts(of id: MessageID) throws -> [MessageAttempt] {
        try store.attempts(of: id)
    }

    // MARK: Suppressions

    public func suppressions() throws -> [Suppression] {
        try store.suppressions()
    }

    /// Stops marketing to `address` on `channel`: its owner's one-click unsubscribe, which needs no
    /// sign-in (RFC 8058). Order and account messages still go.
    /// `alongside` runs in the same transaction: the customer's consent ledger records the same decision.
    public func unsubscribe(_ address: String, channel: MessageChannel,
                            alongside: @escaping @Sendable (any WriteTransaction) throws -> Void = { _ in }) async throws {
        let suppression = Suppression(address: address, channel: channel, reason: "unsubscribed", detail: "one-click unsubscribe",
                                      messageID: nil, createdAt: clock.timestamp)
        try await writer.write { transaction in
            try self.store.suppress(suppression, in: transaction)
            try alongside(transaction)
        }
    }

    /// Lets messages go to `address` again (the customer fixed their mailbox).
    public func unsuppress(_ address: String, channel: MessageChannel) async throws {
        let lifted = try await writer.write { transaction in try self.store.unsuppress(address, channel: channel, in: transaction) }
        guard lifted else { throw MessageError.suppressionNotFound(address: address, channel: channel) }
    }

    // MARK: Changes

    /// Queues a failed or skipped message again, due now, with a fresh retry schedule.
    public func retry(_ id: MessageID) async throws -> Message {
        let now = clock.now()
        return try await writer.write { transaction in
            guard let message = try self.store.message(id, in: transaction)?.message else { throw MessageError.notFound(id.rawValue) }
            guard message.status == .failed || message.status == .skipped else {
                throw MessageError.notRetryable(id: id.rawValue, status: message.status)
            }
            var retried = message
            retried.status = .queued
            retried.skipReason = nil
            retried.nextAttemptAt = Timestamp.string(now)
            retried.nextAttemptAtMilliseconds = now.millisecondsSince1970
            retried.updatedAt = Timestamp.string(now)
            try self.store.update(retried, retryBase: message.attempts, in: transaction)
            transaction.transactionNotes.append(MessageQueued(channel: message.channel))
            return retried
        }
    }

    /// Stores the shop's version of a template and puts it in use; a template that does not compile
    /// changes nothing.
    public func saveTemplate(_ template: TemplateText) async throws -> TemplateText {
        var validator = Validator()
        if let subject = template.subject {
            validator.check(subject.unicodeScalars.count <= 1_000, "subject", "must be at most 1000 characters")
            validator.check(!subject.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "subject",
                            "must be one line without control characters")
        }
        // Template bodies may hold any text but NUL: tabs, carriage returns and form feeds are content.
        for (field, body, max) in [("text", Optional(template.text), 100_000), ("html", template.html, 500_000), ("short", template.short, 1_000)] {
            guard let body else { continue }
            validator.check(!body.isEmpty, field, "must not be empty")
            validator.check(body.unicodeScalars.count <= max, field, "must be at most \(max) characters")
            validator.check(!body.unicodeScalars.contains("\u{0}"), field, "must not contain NUL")
        }
        validator.check(template.locale.utf8.count <= 35 && template.locale.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") },
                        "locale", "must be a language tag such as en or de-AT")
        try validator.throwIfAny()
        var template = try MessageTemplates.validated(template)
        template.updatedAt = clock.timestamp
        let saved = template
        try await writer.write { transaction in try self.store.saveTemplate(saved, in: transaction) }
        try templates.install(saved)
        return saved
    }

    // MARK: Helpers

    /// `message.sent`, `failed`, `skipped`, `opened` or `clicked` on topic `messages`; a flow's or
    /// campaign's message also adds the outcome to its figures, in the same transaction.
    static func appendEvent(_ type: String, for message: Message, to events: EventLog, store: any MessageStore,
                            in transaction: any WriteTransaction) throws {
        if let origin = message.origin {
            try store.countOutcome(String(type.dropFirst("message.".count)), source: origin.source, step: origin.step ?? "", amount: 1, in: transaction)
        }
        try events.append(
            type: type, topic: "messages",
            data: MessageEvent(messageID: message.id.rawValue, channel: message.channel, template: message.template, status: message.status,
                               attempts: message.attempts, orderID: message.orderID?.rawValue, customerID: message.customerID,
                               lastError: message.lastError, skipReason: message.skipReason, runID: message.origin?.runID?.rawValue,
                               flowID: message.origin?.flowID?.rawValue, step: message.origin?.step, campaignID: message.origin?.campaignID?.rawValue),
            in: transaction)
    }
}

/// Left in a transaction's notes by ``MessageService/queue(_:in:)``: the delivery service wakes when
/// a transaction carrying one is durable, instead of waiting for its next tick.
struct MessageQueued: Sendable {
    var channel: MessageChannel
}

/// The payload of the `messages` topic's events; no address, so the log holds no personal data.
struct MessageEvent: Codable {
    var messageID: String
    var channel: MessageChannel
    var template: String
    var status: MessageStatus
    var attempts: Int
    var orderID: String?
    var customerID: String?
    var lastError: String?
    var skipReason: String?
    /// The flow run, flow and step that sent it, for a flow's message.
    var runID: String?
    var flowID: String?
    var step: String?
    var campaignID: String?
}
