import Foundation
import ShopfloorDomain
import ShopfloorJSON

/// An integrator's endpoint as the API shows it; `secret` only in the answers that make one (creation
/// and rotation), since the server keeps it sealed and shows it once.
struct WebhookEndpointDTO: Encodable {
    var id: String
    var url: String
    var events: [String]
    var description: String?
    var status: WebhookEndpoint.Status
    var disabledReason: String?
    var createdAt: String
    var updatedAt: String
    var secret: String?

    init(_ endpoint: WebhookEndpoint, secret: String? = nil) {
        id = endpoint.id.rawValue
        url = endpoint.url
        events = endpoint.events
        description = endpoint.description
        status = endpoint.status
        disabledReason = endpoint.disabledReason
        createdAt = endpoint.createdAt
        updatedAt = endpoint.updatedAt
        self.secret = secret
    }

    /// Every member, `null` where empty, except `secret`, present only when just made.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(url, forKey: .url)
        try container.encode(events, forKey: .events)
        try container.encode(description, forKey: .description)
        try container.encode(status, forKey: .status)
        try container.encode(disabledReason, forKey: .disabledReason)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(secret, forKey: .secret)
    }

    private enum CodingKeys: String, CodingKey {
        case id, url, events, description, status, disabledReason, createdAt, updatedAt, secret
    }
}

/// The body of `POST /v1/webhooks` and `PATCH /v1/webhooks/{id}`.
struct WebhookEndpointBody: Decodable {
    var url: String?
    var events: [String]?
    var description: String?
    var enabled: Bool?
}

/// One delivery in an endpoint's log.
struct WebhookDeliveryDTO: Encodable {
    var id: String
    var endpointID: String
    var eventSeq: Int64
    var eventType: String
    var status: WebhookDelivery.Status
    var attempts: Int
    var nextAttemptAt: String?
    var lastStatusCode: Int?
    var lastError: String?
    var createdAt: String
    var updatedAt: String

    init(_ delivery: WebhookDelivery) {
        id = delivery.id.rawValue
        endpointID = delivery.endpointID.rawValue
        eventSeq = delivery.eventSeq
        eventType = delivery.eventType
        status = delivery.status
        attempts = delivery.attempts
        nextAttemptAt = delivery.nextAttemptAtMilliseconds.map { Timestamp.string(Date(timeIntervalSince1970: Double($0) / 1000)) }
        lastStatusCode = delivery.lastStatusCode
        lastError = delivery.lastError
        createdAt = delivery.createdAt
        updatedAt = delivery.updatedAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(endpointID, forKey: .endpointID)
        try container.encode(eventSeq, forKey: .eventSeq)
        try container.encode(eventType, forKey: .eventType)
        try container.encode(status, forKey: .status)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try container.encode(lastStatusCode, forKey: .lastStatusCode)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }

    private enum CodingKeys: String, CodingKey {
        case id, endpointID = "endpoint", eventSeq, eventType, status, attempts, nextAttemptAt, lastStatusCode, lastError, createdAt, updatedAt
    }
}

/// One delivery with the body it carries and every attempt: what was sent, what came back.
struct WebhookDeliveryDetailDTO: Encodable {
    var delivery: WebhookDeliveryDTO
    /// The body as sent, as JSON (it was made as JSON, so it parses).
    var payload: JSONValue
    var deliveryAttempts: [Attempt]

    struct Attempt: Encodable {
        var number: Int
        var at: String
        var requestHeaders: [String: String]
        var statusCode: Int?
        var responseExcerpt: String?
        var error: String?
        var durationMs: Int

        init(_ attempt: WebhookAttempt) {
            number = attempt.number
            at = attempt.at
            requestHeaders = attempt.requestHeaders
            statusCode = attempt.statusCode
            responseExcerpt = attempt.responseExcerpt
            error = attempt.error
            durationMs = attempt.durationMilliseconds
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(number, forKey: .number)
            try container.encode(at, forKey: .at)
            try container.encode(requestHeaders, forKey: .requestHeaders)
            try container.encode(statusCode, forKey: .statusCode)
            try container.encode(responseExcerpt, forKey: .responseExcerpt)
            try container.encode(error, forKey: .error)
            try container.encode(durationMs, forKey: .durationMs)
        }

        private enum CodingKeys: String, CodingKey {
            case number, at, requestHeaders, statusCode, responseExcerpt, error, durationMs
        }
    }

    /// The delivery's members, then `payload` and `delivery_attempts`, in one object.
    func encode(to encoder: any Encoder) throws {
        try delivery.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(payload, forKey: .payload)
        try container.encode(deliveryAttempts, forKey: .deliveryAttempts)
    }

    private enum CodingKeys: String, CodingKey {
        case payload, deliveryAttempts
    }
}
