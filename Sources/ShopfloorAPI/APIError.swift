public import HTTPTypes
public import ShopfloorDomain

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
    /// No valid API key (401).
    case unauthorized
    /// The key's role may not do this (403).
    case forbidden(required: [Role])
    /// A write on a staff session's cookie without the session's `X-CSRF-Token` (403).
    case csrfTokenMissing
    /// The body is not JSON (415).
    case unsupportedMediaType
    /// A thing the request names does not exist (404), such as an unknown location in a body.
    case missing(detail: String)
    /// The caller sent more than `limit` allows (429): try again in `retryAfter` seconds.
    case rateLimited(policy: String, limit: RateLimit, retryAfter: Int)
    /// The client's address holds `max` open carts already (429).
    case tooManyOpenCarts(max: Int)
}
