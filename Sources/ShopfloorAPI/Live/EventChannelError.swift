/// Why the event channel refused an op; sent as `{"op":"error","code","detail"}` and the connection stays open.
enum EventChannelError: Error, Equatable {
    /// Not JSON, not an object, an unknown op, or malformed fields.
    case invalidRequest(String)
    /// `auth` with a key that is unknown or revoked.
    case unauthorized
    /// Topics the connection's key (or lack of one) may not follow; `adminOnly` when only an admin key may.
    case forbidden(topics: [String], adminOnly: Bool)
    /// `since` is older than the oldest event still kept: reload, then subscribe without it.
    case resumeTooOld(oldest: Int64?)
    /// The log could not be read.
    case unavailable
    /// More `track` ops in a second than a socket may send; the op is dropped, the socket stays.
    case rateLimited
    /// A product, cart or visitor named by a shopper op does not exist.
    case notFound(String)
    /// The op does not fit the state it finds (an offer with no cart to apply it to).
    case conflict(String)
    /// `accept_offer` with a code that is unknown, expired, used or someone else's.
    case offerRejected(String)

    var code: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .resumeTooOld: "resume_too_old"
        case .unavailable: "unavailable"
        case .rateLimited: "rate_limited"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .offerRejected: "offer_rejected"
        }
    }

    var detail: String {
        switch self {
        case .invalidRequest(let detail): detail
        case .unauthorized: "The key is not valid."
        case .forbidden(let topics, let adminOnly):
            "These topics need \(adminOnly ? "an admin key" : "an admin or pos key") (send auth first): \(topics.joined(separator: ", "))."
        case .resumeTooOld(let oldest):
            "Events after that seq are no longer kept\(oldest.map { " (the oldest is \($0))" } ?? ""): reload, then subscribe without since."
        case .unavailable: "The event log could not be read; try again."
        case .rateLimited: "More than \(EventChannel.tracksPerSecond) track ops in a second: this one was dropped."
        case .notFound(let detail), .conflict(let detail), .offerRejected(let detail): detail
        }
    }
}
