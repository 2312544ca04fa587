public import HTTPTypes

/// Errors of the API layer itself: routing, parsing and validation of requests.
public enum APIError: Error, Sendable {
    /// No resource at this path (404).
    case notFound(path: String)
    /// The path exists but not for this method (405, with `Allow`).
    case methodNotAllowed(allowed: [HTTPRequest.Method])
    /// The request is malformed: a bad query value, unparseable JSON (400).
    case invalidRequest(detail: String)
    /// The request is well-formed but its fields are not acceptable (422).
    case validationFailed([FieldError])
    /// The service cannot answer now: starting or draining (503).
    case unavailable(detail: String)
}

/// One failing field of a request body, as listed in a 422 problem's `errors`.
public struct FieldError: Sendable, Encodable, Equatable {
    public var field: String
    public var detail: String

    public init(field: String, detail: String) {
        self.field = field
        self.detail = detail
    }
}
