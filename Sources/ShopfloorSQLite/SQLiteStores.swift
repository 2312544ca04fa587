public import ShopfloorDomain
public import ShopfloorStorage

extension WriteTransaction {
    /// The SQLite connection behind a transaction that ``SQLiteStoreWriter`` handed out. Any other
    /// backend's transaction here is a wiring mistake, and traps in debug builds.
    var connection: SQLiteConnection { unsafeDowncast(self, to: SQLiteConnection.self) }
}

/// The writer's connection is the transaction its jobs receive.
extension SQLiteConnection: WriteTransaction {}

extension Stores {
    /// Every store on one SQLite ``Database``: writes through its writer, reads from its reader pool.
    public static func sqlite(_ database: Database) -> Stores {
        let readers = database.readers
        return Stores(
            writer: SQLiteStoreWriter(writer: database.writer), events: SQLiteEventStore(readers: readers),
            locations: SQLiteLocationStore(readers: readers), apiKeys: SQLiteAPIKeyStore(readers: readers),
            catalogue: SQLiteCatalogueStore(readers: readers), stock: SQLiteStockStore(readers: readers),
            carts: SQLiteCartStore(readers: readers), pricing: SQLitePricingStore(readers: readers),
            orders: SQLiteOrderStore(readers: readers), handovers: SQLiteHandoverStore(), idempotency: SQLiteIdempotencyStore(readers: readers),
            messages: SQLiteMessageStore(readers: readers), webhooks: SQLiteWebhookStore(readers: readers),
            push: SQLitePushSubscriptionStore(readers: readers), customers: SQLiteCustomerStore(readers: readers),
            segments: SQLiteSegmentStore(readers: readers), shopperAuth: SQLiteShopperAuthStore(readers: readers),
            shoppers: SQLiteShopperStore(readers: readers), timers: SQLiteTimerStore(readers: readers), flows: SQLiteFlowStore(readers: readers),
            tasks: SQLiteTaskStore(readers: readers), campaigns: SQLiteCampaignStore(readers: readers),
            cover: SQLiteStockCoverStore(readers: readers), replenishment: SQLiteReplenishmentStore(readers: readers),
            staffSessions: SQLiteStaffSessionStore(readers: readers))
    }
}
