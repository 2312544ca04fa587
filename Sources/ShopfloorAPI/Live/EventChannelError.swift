/// Why the event channel refused an op; sent as `{"op":"error","code","detail"}` and the connection stays open.
enum EventChannelError: Error, Equatable {
    /// Not JSON, not an object, an unknown op, or malformed fields.
    case invalidRequest(String)
    /// `auth` with a key that is unknown or revoked.
    case unauthorized
    /// Topics that need an admin or pos key, before a successful `auth`.
    case forbidden(topics: [String])
    /// `since` is older than the oldest event still kept: reload, then subscribe without it.
    case resumeTooOld(oldest: Int64?)
    /// The log could not be read.
    case unavailable

    var code: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .resumeTooOld: "resume_too_old"
        case .unavailable: "unavailable"
        }
    }

    var detail: String {
        switch self {
        case .invalidRequest(let detail): detail
        case .unauthorized: "The key is not valid."
        case .forbidden(let topics): "These topics need an admin or pos key (send auth first): \(topics.joined(separator: ", "))."
        case .resumeTooOld(let oldest):
            "Events after that seq are no longer kept\(oldest.map { " (the oldest is \($0))" } ?? ""): reload, then subscribe without since."
        case .unavailable: "The event log could not be read; try again."
        }
    }
}
