/// Integrator webhooks in storage: endpoints, their deliveries and every attempt, and how far the
/// event log has been turned into deliveries. Written only inside a writer transaction.
public protocol WebhookStore: Sendable {
    func insert(_ endpoint: WebhookEndpoint, in transaction: any WriteTransaction) throws
    func update(_ endpoint: WebhookEndpoint, in transaction: any WriteTransaction) throws
    /// Removes the endpoint with its deliveries and their attempts; `false` when there was none.
    func delete(_ id: WebhookEndpointID, in transaction: any WriteTransaction) throws -> Bool
    func endpoint(_ id: WebhookEndpointID) throws -> WebhookEndpoint?
    func endpoint(_ id: WebhookEndpointID, in transaction: any WriteTransaction) throws -> WebhookEndpoint?
    /// Every endpoint, oldest first.
    func endpoints() throws -> [WebhookEndpoint]

    /// The last event `seq` turned into deliveries (0 before the first).
    func dispatchedSeq() throws -> Int64
    func setDispatchedSeq(_ seq: Int64, in transaction: any WriteTransaction) throws

    /// Stores a new delivery; one already made for the same endpoint and event is left as it is.
    func insert(_ delivery: WebhookDelivery, in transaction: any WriteTransaction) throws
    /// Stores the delivery's state: status, attempts, next attempt, last status code and error, and
    /// where its retry schedule starts.
    func update(_ delivery: WebhookDelivery, retryBase: Int, in transaction: any WriteTransaction) throws
    func recordAttempt(_ attempt: WebhookAttempt, in transaction: any WriteTransaction) throws
    func delivery(_ id: WebhookDeliveryID) throws -> WebhookDelivery?
    func delivery(_ id: WebhookDeliveryID, in transaction: any WriteTransaction) throws -> WebhookDelivery?
    /// The endpoint's deliveries (of `status` when given) whose position is below `before`, newest first.
    func deliveries(of endpoint: WebhookEndpointID, status: WebhookDelivery.Status?, before: Int64, limit: Int) throws
        -> [(position: Int64, delivery: WebhookDelivery)]
    /// Pending deliveries due at or before `milliseconds`, earliest first, with where their retry schedule starts.
    func due(at milliseconds: Int64, limit: Int) throws -> [(delivery: WebhookDelivery, retryBase: Int)]
    /// The attempts made for a delivery, oldest first.
    func attempts(of id: WebhookDeliveryID) throws -> [WebhookAttempt]
    /// Deletes settled deliveries (and their attempts) last changed before `cutoff`; returns how many went.
    func pruneDeliveries(settledBefore cutoff: String, in transaction: any WriteTransaction) throws -> Int
}
