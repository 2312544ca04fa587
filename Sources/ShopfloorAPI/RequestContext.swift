public import Logging

/// What travels with a request through middleware to its handler.
public struct RequestContext: Sendable {
    /// The request's id: the client's `X-Request-Id` when it is sane, else a random one.
    public var requestID: String
    /// Path parameters by name, percent-decoded (`/v1/products/{id}` → `["id": …]`).
    public var parameters: [String: String]
    /// A logger carrying the request id as metadata.
    public var logger: Logger

    public init(requestID: String = "", parameters: [String: String] = [:], logger: Logger) {
        self.requestID = requestID
        self.parameters = parameters
        self.logger = logger
    }
}
