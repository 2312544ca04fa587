import Testing
import ShopfloorDomain
import ShopfloorStorage

/// A stored row that is not what its table promises is an error naming the table, the row and the
/// column, never a value made up in its place.
struct StoredRowTests {
    @Test func aShippingMethodInACurrencyTheServerDoesNotKnowIsABadRowNotADefault() async throws {
        let store = try TestDatabase()
        _ = try await store.database.writer.write { connection in
            try connection.run(
                """
                INSERT INTO shipping_methods (id, name, price_amount, currency, countries, free_over_amount, collect_location_id, created_at)
                VALUES ('ship_odd', 'Odd', 500, 'QQQ', '["GB"]', NULL, NULL, '2026-12-06T00:00:00Z')
                """)
        }
        #expect(throws: StoreError.badRow(table: "shipping_methods", key: "ship_odd", column: "currency")) {
            try PricingService(stores: store.stores)
        }
    }

    @Test func aLocationWhoseFlagIsNeitherZeroNorOneIsABadRow() async throws {
        let store = try TestDatabase()
        _ = try await store.database.writer.write { connection in
            try connection.run("UPDATE locations SET fulfils_online = 2 WHERE id = 'loc_main'")
        }
        let locations = LocationService(stores: store.stores, events: try EventLog(stores: store.stores))
        #expect(throws: StoreError.badRow(table: "locations", key: "loc_main", column: "fulfils_online")) { try locations.all() }
    }
}
