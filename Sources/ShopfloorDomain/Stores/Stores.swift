/// Every store of one backend and its writer: what the domain services are built from. A backend (the
/// SQLite one in `ShopfloorSQLite`) makes one at start-up; Domain sees only these protocols.
public struct Stores: Sendable {
    public var writer: any StoreWriter
    public var events: any EventStore
    public var locations: any LocationStore
    public var apiKeys: any APIKeyStore
    public var stock: any StockStore
    public var idempotency: any IdempotencyStore
    public var pricing: any PricingStore

    public init(writer: any StoreWriter, events: any EventStore, locations: any LocationStore, apiKeys: any APIKeyStore,
                stock: any StockStore, idempotency: any IdempotencyStore, pricing: any PricingStore) {
        self.writer = writer
        self.events = events
        self.locations = locations
        self.apiKeys = apiKeys
        self.stock = stock
        self.idempotency = idempotency
        self.pricing = pricing
    }
}
