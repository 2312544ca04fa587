/// Push subscriptions in storage, one per endpoint.
public protocol PushSubscriptionStore: Sendable {
    /// Stores the subscription, replacing one with the same endpoint (its keys, and what it follows
    /// where the new one names something), and returns what is stored.
    func upsert(_ subscription: PushSubscription, in transaction: any WriteTransaction) throws -> PushSubscription
    /// Removes the subscription with this endpoint; `false` when there was none.
    func delete(endpoint: String, in transaction: any WriteTransaction) throws -> Bool
    /// Removes the subscription `id`; `false` when there was none.
    func delete(_ id: PushSubscriptionID, in transaction: any WriteTransaction) throws -> Bool
    func subscription(endpoint: String) throws -> PushSubscription?
    /// The most recently updated subscription of the customer, else of the cart: where a flow's push goes.
    func latest(customer: String?, cart: CartID?, in transaction: any WriteTransaction) throws -> PushSubscription?
    /// The subscriptions following the order or the cart it was placed from.
    func subscriptions(following order: OrderID, cart: CartID, in transaction: any WriteTransaction) throws -> [PushSubscription]
}
