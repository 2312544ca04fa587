/// An integrator's receiver of events (API.md, Integrator webhooks): a URL, the event types it wants,
/// and the secret its deliveries are signed with.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: WebhookEndpointID
    public var url: String
    /// Event types (`order.placed`), families (`order.*`) or everything (`*`).
    public var events: [String]
    public var description: String?
    public var status: Status
    /// Why it was disabled: `gone` when the receiver answered 410, `manual` when an admin did.
    public var disabledReason: String?
    /// Only events after this `seq` go to it: an endpoint hears of what happens from its creation on.
    public var startSeq: Int64
    public var secrets: [WebhookSecret]
    public var createdAt: String
    public var updatedAt: String

    public enum Status: String, Sendable, Codable {
        case enabled, disabled
    }

    public init(id: WebhookEndpointID, url: String, events: [String], description: String?, status: Status, disabledReason: String?,
                startSeq: Int64, secrets: [WebhookSecret], createdAt: String, updatedAt: String) {
        self.id = id
        self.url = url
        self.events = events
        self.description = description
        self.status = status
        self.disabledReason = disabledReason
        self.startSeq = startSeq
        self.secrets = secrets
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether an event of `type` goes to this endpoint.
    public func wants(_ type: String) -> Bool {
        events.contains { pattern in Self.pattern(pattern, matches: type) }
    }

    /// `*` matches every type, `order.*` every type under `order.` (and nested ones), anything else only itself.
    static func pattern(_ pattern: String, matches type: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix(".*") { return type.hasPrefix(pattern.dropLast()) }
        return pattern == type
    }
}

public struct WebhookEndpointID: EntityID {
    public static let prefix = "whk"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// One signing secret of an endpoint, kept sealed at rest. During a rotation the old one stays valid
/// until `expiresAt`, and deliveries carry a signature with each.
public struct WebhookSecret: Sendable, Equatable {
    /// The secret as ``SecretSealer/seal(_:)`` left it; never the plain `whsec_…` text.
    public var sealed: String
    /// When a rotated-out secret stops signing, in milliseconds since 1970; `nil` for the current one.
    public var expiresAtMilliseconds: Int64?

    public init(sealed: String, expiresAtMilliseconds: Int64?) {
        self.sealed = sealed
        self.expiresAtMilliseconds = expiresAtMilliseconds
    }
}
