/// Failures of the webhook endpoints' API, mapped to problem+json in one place (`Problem.swift`).
public enum WebhookError: Error, Sendable, Equatable {
    case endpointNotFound(String)
    case deliveryNotFound(String)
    /// The URL names a private, loopback or link-local address and the server does not allow those.
    case privateTarget(String)
}
