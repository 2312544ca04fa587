/// Sends one signed webhook request and says what came of it: the seam between the delivery service
/// and the outbound HTTP client, so the domain holds the rules (what is retried, what disables an
/// endpoint) and no sockets.
public protocol WebhookClient: Sendable {
    func post(url: String, headers: [(name: String, value: String)], body: [UInt8]) async -> WebhookResponse
}

/// The outcome of one request.
public enum WebhookResponse: Sendable, Equatable {
    /// The receiver answered; `excerpt` is the start of its body, `retryAfter` its `Retry-After`.
    case answered(status: Int, excerpt: String, retryAfter: Duration?)
    /// No answer: a timeout, a refused connection, a TLS failure (`permanent` false), or a request
    /// that can never be made, such as a refused private address (`permanent` true).
    case failed(String, permanent: Bool)
}
