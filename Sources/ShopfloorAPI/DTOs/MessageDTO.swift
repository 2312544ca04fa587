import ShopfloorDomain

/// A message as `GET /v1/messages` lists it (API.md, Messages).
struct MessageDTO: Encodable {
    var id: String
    var channel: MessageChannel
    var to: String
    var template: String
    @Nullable var subject: String?
    var status: MessageStatus
    var attempts: Int
    @Nullable var nextAttemptAt: String?
    @Nullable var lastError: String?
    @Nullable var skipReason: String?
    @Nullable var customerID: String?
    @Nullable var orderID: String?
    var transactional: Bool
    var createdAt: String
    var updatedAt: String
    @Nullable var sentAt: String?
    /// The flow, run and step that sent it (API.md, Automation).
    @Nullable var flowID: String?
    @Nullable var runID: String?
    @Nullable var step: String?
    @Nullable var campaignID: String?
    /// When a flow message's pixel was first loaded, and one of its links first followed.
    @Nullable var openedAt: String?
    @Nullable var clickedAt: String?

    /// `sending` while `sending` says an attempt is under way (the store keeps such a message `queued`).
    init(_ message: Message, sending: Bool = false) {
        id = message.id.rawValue
        channel = message.channel
        to = message.recipient
        template = message.template
        subject = message.subject
        status = sending && message.status == .queued ? .sending : message.status
        attempts = message.attempts
        nextAttemptAt = message.nextAttemptAt
        lastError = message.lastError
        skipReason = message.skipReason
        customerID = message.customerID
        orderID = message.orderID?.rawValue
        transactional = message.transactional
        createdAt = message.createdAt
        updatedAt = message.updatedAt
        sentAt = message.sentAt
        flowID = message.origin?.flowID?.rawValue
        runID = message.origin?.runID?.rawValue
        step = message.origin?.step
        campaignID = message.origin?.campaignID?.rawValue
        openedAt = message.openedAt
        clickedAt = message.clickedAt
    }
}

/// One message with the record of its delivery attempts (`GET /v1/messages/{id}`).
struct MessageDetailDTO: Encodable {
    var message: MessageDTO
    var deliveryAttempts: [Attempt]

    struct Attempt: Encodable {
        var number: Int
        var at: String
        var outcome: MessageAttempt.Outcome
        var detail: String
    }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(deliveryAttempts, forKey: .deliveryAttempts)
    }

    private enum CodingKeys: String, CodingKey { case deliveryAttempts }
}

/// A template as `GET /v1/templates` lists it.
struct TemplateDTO: Encodable {
    var name: String
    var locale: String?
    var subject: String?
    var text: String
    var html: String?
    var short: String?
    /// `true` once the shop has changed it from the shipped text.
    var customised: Bool
    var updatedAt: String?

    init(_ template: TemplateText) {
        name = template.name
        locale = template.locale.isEmpty ? nil : template.locale
        subject = template.subject
        text = template.text
        html = template.html
        short = template.short
        customised = template.updatedAt != nil
        updatedAt = template.updatedAt
    }
}

/// The body of `PUT /v1/templates/{name}`.
struct TemplateBody: Decodable {
    var subject: String?
    var text: String
    var html: String?
    var short: String?
    var locale: String?
}
