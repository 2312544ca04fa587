/// One event on its way to one endpoint. Its id is the `webhook-id` header, the same on every attempt
/// and after a crash, so a receiver can drop what it already has (Standard Webhooks).
public struct WebhookDelivery: Sendable, Equatable {
    public var id: WebhookDeliveryID
    public var endpointID: WebhookEndpointID
    public var eventSeq: Int64
    public var eventType: String
    /// The JSON body, made when the delivery is: `{"type","timestamp","data"}`.
    public var payload: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAtMilliseconds: Int64?
    /// The receiver's last HTTP status, if it answered.
    public var lastStatusCode: Int?
    public var lastError: String?
    public var createdAt: String
    public var updatedAt: String

    public enum Status: String, Sendable, Codable, CaseIterable {
        case pending, succeeded, failed
    }

    public init(id: WebhookDeliveryID, endpointID: WebhookEndpointID, eventSeq: Int64, eventType: String, payload: String, status: Status,
                attempts: Int, nextAttemptAtMilliseconds: Int64?, lastStatusCode: Int?, lastError: String?, createdAt: String, updatedAt: String) {
        self.id = id
        self.endpointID = endpointID
        self.eventSeq = eventSeq
        self.eventType = eventType
        self.payload = payload
        self.status = status
        self.attempts = attempts
        self.nextAttemptAtMilliseconds = nextAttemptAtMilliseconds
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct WebhookDeliveryID: EntityID {
    public static let prefix = "whd"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// One try at a delivery, for the endpoint's delivery log: what was sent and what came back, cut short.
public struct WebhookAttempt: Sendable, Equatable {
    public var deliveryID: WebhookDeliveryID
    /// 1 for the first attempt.
    public var number: Int
    public var at: String
    /// The signed request's headers as sent (`webhook-id`, `webhook-timestamp`, `webhook-signature`, …).
    public var requestHeaders: [String: String]
    public var statusCode: Int?
    /// The start of the receiver's body (at most ``WebhookAttempt/excerptLimit`` characters).
    public var responseExcerpt: String?
    /// Why no answer came (a timeout, a refused connection, a refused address).
    public var error: String?
    public var durationMilliseconds: Int

    /// How much of a receiver's answer the log keeps.
    public static let excerptLimit = 1_024

    public init(deliveryID: WebhookDeliveryID, number: Int, at: String, requestHeaders: [String: String], statusCode: Int?,
                responseExcerpt: String?, error: String?, durationMilliseconds: Int) {
        self.deliveryID = deliveryID
        self.number = number
        self.at = at
        self.requestHeaders = requestHeaders
        self.statusCode = statusCode
        self.responseExcerpt = responseExcerpt
        self.error = error
        self.durationMilliseconds = durationMilliseconds
    }
}
