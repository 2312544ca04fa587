import Foundation
import ShopfloorDomain
import ShopfloorJSON

/// An integrator's endpoint as the API shows it; `secret` only in the answers that make one (creation
/// and rotation), since the server keeps it sealed and shows it once.
struct WebhookEndpointDTO: Encodable {
    var id: String
    var url: String
    var events: [String]
    @Nullable var description: String?
    var status: WebhookEndpoint.Status
    @Nullable var disabledReason: String?
    var createdAt: String
    var updatedAt: String
    /// Left out when `nil`: present only in the answers that make a secret.
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
    @Nullable var nextAttemptAt: String?
    @Nullable var lastStatusCode: Int?
    @Nullable var lastError: String?
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
        @Nullable var statusCode: Int?
        @Nullable var responseExcerpt: String?
        @Nullable var error: String?
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
