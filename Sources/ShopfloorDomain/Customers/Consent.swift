/// The channels a customer consents to marketing on.
public enum ConsentChannel: String, Sendable, CaseIterable, Codable {
    case email, sms, push
}

/// Where a customer stands on marketing over one channel (API.md, Customers). Marketing goes only to
/// `subscribed`; order and account messages need no consent.
public struct Consent: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable, Codable {
        case subscribed, unsubscribed
        /// Never asked, or never answered.
        case notSubscribed = "not_subscribed"
    }

    public enum Level: String, Sendable, CaseIterable, Codable {
        case singleOptIn = "single_opt_in"
        case confirmedOptIn = "confirmed_opt_in"
    }

    public var state: State
    /// How the subscription was given; `nil` unless subscribed.
    public var level: Level?
    /// Who or what recorded the change: `admin`, `pos`, `account`, `checkout`, `unsubscribe_link`…
    public var source: String?
    public var updatedAt: String?

    public init(state: State, level: Level?, source: String?, updatedAt: String?) {
        self.state = state
        self.level = level
        self.source = source
        self.updatedAt = updatedAt
    }

    /// A channel never touched.
    public static let never = Consent(state: .notSubscribed, level: nil, source: nil, updatedAt: nil)
}

/// One entry of a customer's append-only consent ledger.
public struct ConsentChange: Sendable, Equatable {
    public var channel: ConsentChannel
    public var consent: Consent
    /// Position in the ledger, for paging.
    public var position: Int64

    public init(channel: ConsentChannel, consent: Consent, position: Int64) {
        self.channel = channel
        self.consent = consent
        self.position = position
    }
}
