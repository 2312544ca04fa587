public import ShopfloorDomain
public import ShopfloorStorage

extension Stores {
    /// Every store on one SQLite ``Database``: writes through its writer, reads from its reader pool.
    public static func sqlite(_ database: Database) -> Stores {
        let readers = database.readers
        return Stores(
            writer: SQLiteStoreWriter(writer: database.writer), events: SQLiteEventStore(readers: readers),
            locations: SQLiteLocationStore(readers: readers), apiKeys: SQLiteAPIKeyStore(readers: readers),
            stock: SQLiteStockStore(readers: readers), idempotency: SQLiteIdempotencyStore(readers: readers),
            pricing: SQLitePricingStore(readers: readers))
    }
}
