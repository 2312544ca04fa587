/// Every store of one backend and its writer: what the domain services are built from. A backend (the
/// SQLite one in `ShopfloorSQLite`) makes one at start-up; Domain sees only these protocols.
public struct Stores: Sendable {
    public var writer: any StoreWriter
    public var events: any EventStore
    public var locations: any LocationStore
    public var apiKeys: any APIKeyStore
    public var catalogue: any CatalogueStore
    public var stock: any StockStore
    public var carts: any CartStore
    public var pricing: any PricingStore
    public var orders: any OrderStore
    public var handovers: any HandoverStore
    public var idempotency: any IdempotencyStore
    public var messages: any MessageStore
    public var webhooks: any WebhookStore
    public var push: any PushSubscriptionStore
    public var customers: any CustomerStore
    public var segments: any SegmentStore
    public var shopperAuth: any ShopperAuthStore
    public var shoppers: any ShopperStore
    public var timers: any TimerStore
    public var flows: any FlowStore
    public var tasks: any TaskStore
    public var campaigns: any CampaignStore
    public var cover: any StockCoverStore
    public var replenishment: any ReplenishmentStore
    public var staffSessions: any StaffSessionStore

    public init(writer: any StoreWriter, events: any EventStore, locations: any LocationStore, apiKeys: any APIKeyStore,
                catalogue: any CatalogueStore, stock: any StockStore, carts: any CartStore, pricing: any PricingStore,
                orders: any OrderStore, handovers: any HandoverStore, idempotency: any IdempotencyStore, messages: any MessageStore,
                webhooks: any WebhookStore, push: any PushSubscriptionStore, customers: any CustomerStore, segments: any SegmentStore,
                shopperAuth: any ShopperAuthStore, shoppers: any ShopperStore, timers: any TimerStore, flows: any FlowStore, tasks: any TaskStore,
                campaigns: any CampaignStore, cover: any StockCoverStore, replenishment: any ReplenishmentStore,
                staffSessions: any StaffSessionStore) {
        self.staffSessions = staffSessions
        self.replenishment = replenishment
        self.cover = cover
        self.campaigns = campaigns
        self.timers = timers
        self.flows = flows
        self.tasks = tasks
        self.writer = writer
        self.events = events
        self.locations = locations
        self.apiKeys = apiKeys
        self.catalogue = catalogue
        self.stock = stock
        self.carts = carts
        self.pricing = pricing
        self.orders = orders
        self.handovers = handovers
        self.idempotency = idempotency
        self.messages = messages
        self.webhooks = webhooks
        self.push = push
        self.customers = customers
        self.segments = segments
        self.shopperAuth = shopperAuth
        self.shoppers = shoppers
    }
}
