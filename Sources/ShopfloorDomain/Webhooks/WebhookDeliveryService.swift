import Foundation
public import Logging

/// Sends due webhook deliveries, signed per Standard Webhooks, at most `concurrency` at a time, and
/// records each attempt with what follows from it in one transaction: succeeded on a 2xx; due again
/// by the ``RetrySchedule/webhooks`` on a timeout, a failed connection, 408, 429 or a 5xx (not
/// before a `Retry-After`); failed on any other answer; and on 410 the endpoint is disabled too, as
/// the receiver asked.
///
/// At least once: a delivery stays pending until its attempt is recorded, so after a crash mid-send
/// it goes again on the next start with the same `webhook-id`. Deliveries of a disabled endpoint wait
/// (enabling it again sends them); those of a removed one went with it.
public final class WebhookDeliveryService: Sendable {
    private let store: any WebhookStore
    private let writer: any StoreWriter
    private let webhooks: WebhookService
    private let dispatcher: WebhookDispatcher
    private let client: any WebhookClient
    private let concurrency: Int
    private let schedule: RetrySchedule
    private let clock: any WallClock
    private let logger: Logger
    /// One lane: the webhook channel as a whole.
    private let inFlight = InFlightClaims<WebhookDeliveryID, Int>()
    private let loop: DeliveryLoop

    /// Requests in flight at once unless told otherwise: enough to keep a few thousand deliveries a
    /// second going to receivers that answer in milliseconds.
    public static let defaultConcurrency = 32

    public init(stores: Stores, webhooks: WebhookService, dispatcher: WebhookDispatcher, client: any WebhookClient,
                concurrency: Int = defaultConcurrency, schedule: RetrySchedule = .webhooks, clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "shopfloor.webhooks")) {
        store = stores.webhooks
        writer = stores.writer
        self.webhooks = webhooks
        self.dispatcher = dispatcher
        self.client = client
        self.concurrency = max(1, concurrency)
        self.schedule = schedule
        self.clock = clock
        self.logger = logger
        loop = DeliveryLoop(writer: writer) { $0 is WebhookQueued }
    }

    /// Delivers until cancelled; in-flight requests finish before it returns.
    public func run(tick: Duration = .milliseconds(500)) async {
        await loop.run(tick: tick, claim: { self.claimDue() }, send: { await self.deliver($0.0, retryBase: $0.1) })
    }

    /// Sends every delivery due now, waiting for each attempt to be recorded, until none is due: the
    /// service's step, for tests that move their clock.
    public func deliverDue() async {
        await DeliveryLoop.drain(claim: claimDue, send: { await self.deliver($0.0, retryBase: $0.1) })
    }

    private func claimDue() -> [(WebhookDelivery, Int)] {
        inFlight.beginPass()
        let busy = inFlight.count(0)
        guard busy < concurrency else { return [] }
        let due: [(delivery: WebhookDelivery, retryBase: Int)]
        do {
            due = try store.due(at: clock.milliseconds, limit: concurrency + busy)
        } catch {
            logger.error("reading due webhook deliveries failed", metadata: ["error": "\(error)"])
            return []
        }
        return inFlight.claim(due, lane: 0, limit: concurrency) { $0.delivery.id }.map { ($0.delivery, $0.retryBase) }
    }

    /// One signed request for `delivery` and its record.
    private func deliver(_ delivery: WebhookDelivery, retryBase: Int) async {
        defer { inFlight.finish(delivery.id, lane: 0) }
        let endpoint: WebhookEndpoint
        do {
            guard let found = try store.endpoint(delivery.endpointID), found.status == .enabled else { return }
            endpoint = found
        } catch {
            logger.error("reading a webhook endpoint failed", metadata: ["endpoint": "\(delivery.endpointID)", "error": "\(error)"])
            return
        }
        let sentAt = clock.now()
        let timestamp = Int64(sentAt.timeIntervalSince1970.rounded(.down))
        let body = Array(delivery.payload.utf8)
        let headers: [(name: String, value: String)] = [
            ("content-type", "application/json"),
            ("webhook-id", delivery.id.rawValue),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", WebhookSignature.header(
                id: delivery.id.rawValue, timestamp: timestamp, body: body,
                secrets: webhooks.signingSecrets(of: endpoint, at: sentAt.millisecondsSince1970))),
        ]
        let started = ContinuousClock.now
        let response = await client.post(url: endpoint.url, headers: headers, body: body)
        let elapsed = ContinuousClock.now - started

        let now = clock.now()
        var settled = delivery
        settled.attempts += 1
        settled.updatedAt = Timestamp.string(now)
        var attempt = WebhookAttempt(
            deliveryID: delivery.id, number: settled.attempts, at: Timestamp.string(sentAt),
            requestHeaders: Dictionary(headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }), statusCode: nil,
            responseExcerpt: nil, error: nil, durationMilliseconds: Int(elapsed / .milliseconds(1)))
        var retryAfter: Duration?
        var gone = false
        switch response {
        case .answered(let status, let excerpt, let after):
            settled.lastStatusCode = status
            attempt.statusCode = status
            attempt.responseExcerpt = String(excerpt.prefix(WebhookAttempt.excerptLimit))
            switch status {
            case 200..<300:
                settled.status = .succeeded
                settled.lastError = nil
            case 408, 429, 500...:
                settled.lastError = "HTTP \(status)"
                retryAfter = after
            default:
                settled.status = .failed
                settled.lastError = "HTTP \(status)"
                gone = status == 410
            }
        case .failed(let error, let permanent):
            settled.lastError = error
            attempt.error = error
            if permanent { settled.status = .failed }
        }
        if settled.status == .pending {
            if let delay = schedule.delay(afterFailures: settled.attempts - retryBase, atLeast: retryAfter) {
                settled.nextAttemptAtMilliseconds = now.addingTimeInterval(delay.seconds).millisecondsSince1970
            } else {
                settled.status = .failed
            }
        }
        if settled.status != .pending { settled.nextAttemptAtMilliseconds = nil }
        let recorded = settled
        let record = attempt
        let disables = gone
        do {
            try await writer.write { transaction in
                try self.store.update(recorded, retryBase: retryBase, in: transaction)
                try self.store.recordAttempt(record, in: transaction)
                if disables, var disabled = try self.store.endpoint(endpoint.id, in: transaction), disabled.status == .enabled {
                    disabled.status = .disabled
                    disabled.disabledReason = "gone"
                    disabled.updatedAt = recorded.updatedAt
                    try self.store.update(disabled, in: transaction)
                }
            }
        } catch {
            // The delivery stays due as it was, so it goes again: at least once.
            logger.error("recording a webhook attempt failed", metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
            return
        }
        if gone {
            logger.warning("webhook endpoint disabled: the receiver answered 410 Gone", metadata: ["endpoint": "\(endpoint.id)"])
            dispatcher.endpointsChanged()
        }
    }
}
