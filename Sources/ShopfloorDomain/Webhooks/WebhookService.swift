import Foundation

/// Integrator webhooks' front (API.md, Integrator webhooks): endpoints made, changed, rotated and
/// removed, and their delivery logs read and replayed. The ``WebhookDispatcher`` turns events into
/// deliveries; the ``WebhookDeliveryService`` sends them.
public final class WebhookService: Sendable {
    private let store: any WebhookStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let sealer: any SecretSealer
    private let dispatcher: WebhookDispatcher
    private let clock: any WallClock
    /// Whether a URL's host names an address the server may not call (a private, loopback or
    /// link-local one, unless the server allows them). Names are checked again after resolution, on
    /// every connection; this refuses what is plainly wrong when the endpoint is made.
    private let refusesHost: @Sendable (String) -> Bool

    /// How long a rotated-out secret keeps signing, so receivers can switch at their pace.
    public static let rotationOverlap: Duration = .seconds(24 * 3_600)
    static let maximumEventPatterns = 50

    public init(stores: Stores, events: EventLog, dispatcher: WebhookDispatcher, sealer: any SecretSealer, clock: any WallClock = SystemClock(),
                refusesHost: @escaping @Sendable (String) -> Bool) {
        store = stores.webhooks
        writer = stores.writer
        self.events = events
        self.sealer = sealer
        self.dispatcher = dispatcher
        self.clock = clock
        self.refusesHost = refusesHost
    }

    /// What an admin sends to make or change an endpoint; `nil` leaves a field as it is.
    public struct Draft: Sendable {
        public var url: String?
        public var events: [String]?
        public var description: String??
        public var enabled: Bool?

        public init(url: String? = nil, events: [String]? = nil, description: String?? = nil, enabled: Bool? = nil) {
            self.url = url
            self.events = events
            self.description = description
            self.enabled = enabled
        }
    }

    /// Makes an endpoint and its secret; the secret is returned this once and kept only sealed.
    public func create(_ draft: Draft) async throws -> (endpoint: WebhookEndpoint, secret: String) {
        try validate(draft, creating: true)
        let secret = WebhookSignature.makeSecret()
        let stamp = clock.timestamp
        let endpoint = WebhookEndpoint(
            id: .make(), url: draft.url ?? "", events: draft.events ?? [], description: draft.description ?? nil, status: .enabled,
            disabledReason: nil, startSeq: events.publishedSeq, secrets: [WebhookSecret(sealed: sealer.seal(secret), expiresAtMilliseconds: nil)],
            createdAt: stamp, updatedAt: stamp)
        try await writer.write { transaction in try self.store.insert(endpoint, in: transaction) }
        dispatcher.endpointsChanged()
        return (endpoint, secret)
    }

    public func endpoints() throws -> [WebhookEndpoint] {
        try store.endpoints()
    }

    public func endpoint(_ id: WebhookEndpointID) throws -> WebhookEndpoint {
        guard let endpoint = try store.endpoint(id) else { throw WebhookError.endpointNotFound(id.rawValue) }
        return endpoint
    }

    /// Changes the URL, events, description or state; enabling again clears why it was disabled.
    public func update(_ id: WebhookEndpointID, _ draft: Draft) async throws -> WebhookEndpoint {
        try validate(draft, creating: false)
        let stamp = clock.timestamp
        let updated = try await writer.write { transaction in
            guard var endpoint = try self.store.endpoint(id, in: transaction) else { throw WebhookError.endpointNotFound(id.rawValue) }
            if let url = draft.url { endpoint.url = url }
            if let events = draft.events { endpoint.events = events }
            if let description = draft.description { endpoint.description = description }
            if let enabled = draft.enabled, enabled != (endpoint.status == .enabled) {
                endpoint.status = enabled ? .enabled : .disabled
                endpoint.disabledReason = enabled ? nil : "manual"
            }
            endpoint.updatedAt = stamp
            try self.store.update(endpoint, in: transaction)
            return endpoint
        }
        dispatcher.endpointsChanged()
        return updated
    }

    public func delete(_ id: WebhookEndpointID) async throws {
        let deleted = try await writer.write { transaction in try self.store.delete(id, in: transaction) }
        guard deleted else { throw WebhookError.endpointNotFound(id.rawValue) }
        dispatcher.endpointsChanged()
    }

    /// A new secret for the endpoint; the current one goes on signing for ``rotationOverlap``, and
    /// older rotated-out ones stop at once.
    public func rotateSecret(_ id: WebhookEndpointID) async throws -> (endpoint: WebhookEndpoint, secret: String) {
        let secret = WebhookSignature.makeSecret()
        let sealed = sealer.seal(secret)
        let now = clock.now()
        let overlapEnds = now.addingTimeInterval(Self.rotationOverlap.seconds).millisecondsSince1970
        let endpoint = try await writer.write { transaction in
            guard var endpoint = try self.store.endpoint(id, in: transaction) else { throw WebhookError.endpointNotFound(id.rawValue) }
            let current = endpoint.secrets.filter { $0.expiresAtMilliseconds == nil }
            endpoint.secrets = [WebhookSecret(sealed: sealed, expiresAtMilliseconds: nil)]
                + current.map { WebhookSecret(sealed: $0.sealed, expiresAtMilliseconds: overlapEnds) }
            endpoint.updatedAt = Timestamp.string(now)
            try self.store.update(endpoint, in: transaction)
            return endpoint
        }
        dispatcher.endpointsChanged()
        return (endpoint, secret)
    }

    /// The endpoint's deliveries, newest first, a page at a time (the cursor is the last one's position).
    public func deliveries(of id: WebhookEndpointID, status: WebhookDelivery.Status?, limit: Int, before: Int64?) throws -> Page<WebhookDelivery> {
        _ = try endpoint(id)
        let limit = max(1, min(limit, 200))
        let found = try store.deliveries(of: id, status: status, before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: \.delivery)
    }

    /// One delivery of the endpoint with its attempts.
    public func delivery(_ id: WebhookDeliveryID, of endpoint: WebhookEndpointID) throws -> (delivery: WebhookDelivery, attempts: [WebhookAttempt]) {
        guard let delivery = try store.delivery(id), delivery.endpointID == endpoint else { throw WebhookError.deliveryNotFound(id.rawValue) }
        return (delivery, try store.attempts(of: id))
    }

    /// Sends a delivery again, due now with a fresh retry schedule and the same `webhook-id`, whatever
    /// became of it before (a receiver that lost what it had acknowledged asks for it again).
    public func replay(_ id: WebhookDeliveryID, of endpoint: WebhookEndpointID) async throws -> WebhookDelivery {
        let now = clock.now()
        return try await writer.write { transaction in
            guard var delivery = try self.store.delivery(id, in: transaction), delivery.endpointID == endpoint else {
                throw WebhookError.deliveryNotFound(id.rawValue)
            }
            let retryBase = delivery.attempts
            delivery.status = .pending
            delivery.nextAttemptAtMilliseconds = now.millisecondsSince1970
            delivery.updatedAt = Timestamp.string(now)
            try self.store.update(delivery, retryBase: retryBase, in: transaction)
            transaction.transactionNotes.append(WebhookQueued())
            return delivery
        }
    }

    /// Deletes the delivery log's settled entries older than `age` (kept as long as the event log
    /// keeps events); pending deliveries stay whatever their age. Returns how many went.
    @discardableResult
    public func pruneDeliveries(olderThan age: Duration) async throws -> Int {
        let cutoff = Timestamp.string(clock.now().addingTimeInterval(-age.seconds))
        return try await writer.write { transaction in try self.store.pruneDeliveries(settledBefore: cutoff, in: transaction) }
    }

    /// The plain secrets that sign for `endpoint` at `milliseconds`, the current one first.
    func signingSecrets(of endpoint: WebhookEndpoint, at milliseconds: Int64) -> [String] {
        endpoint.secrets.filter { ($0.expiresAtMilliseconds ?? .max) > milliseconds }.compactMap { try? sealer.open($0.sealed) }
    }

    private func validate(_ draft: Draft, creating: Bool) throws {
        var validator = Validator()
        if let url = draft.url ?? (creating ? "" : nil) {
            validator.check(url.utf8.count <= 2_000, "url", "must be at most 2000 characters")
            if let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host,
               !host.isEmpty, scheme == "http" || scheme == "https", url.allSatisfy({ !$0.isWhitespace }) {
                validator.check(components.user == nil && components.password == nil, "url", "must not carry a user or password")
                validator.check(components.fragment == nil, "url", "must not have a fragment")
                if refusesHost(host) { throw WebhookError.privateTarget(host) }
            } else {
                validator.check(false, "url", "must be an absolute http or https URL")
            }
        }
        if let patterns = draft.events ?? (creating ? [] : nil) {
            validator.check(!patterns.isEmpty, "events", "must name at least one event type, or \"*\"")
            validator.check(patterns.count <= Self.maximumEventPatterns, "events", "must have at most \(Self.maximumEventPatterns) entries")
            for (index, pattern) in patterns.enumerated() {
                validator.check(Self.isPattern(pattern), "events[\(index)]", "must be an event type such as order.placed, a family such as order.*, or *")
            }
        }
        if let description = draft.description {
            validator.text(description, "description", max: 500, required: false)
        }
        try validator.throwIfAny()
    }

    /// `*`, or dot-separated lowercase words, the last of which may be `*`.
    static func isPattern(_ pattern: String) -> Bool {
        guard pattern.utf8.count <= 100 else { return false }
        if pattern == "*" { return true }
        let words = pattern.split(separator: ".", omittingEmptySubsequences: false)
        return words.enumerated().allSatisfy { index, word in
            (word == "*" && index == words.count - 1 && index > 0)
                || (!word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        }
    }
}

/// Left in a transaction's notes when deliveries are made or replayed: the delivery service wakes once
/// the transaction is durable.
struct WebhookQueued: Sendable {}
