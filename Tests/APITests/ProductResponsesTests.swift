import Foundation
@testable import ShopfloorAPI
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorSQLite
import ShopfloorStorage
import Testing

/// Cached product bodies follow every acknowledged change: a stock change, a product update.
struct ProductResponsesTests {
    @Test func cachedProductReflectsEveryAcknowledgedChange() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shopfloor-responses-\(UUID().uuidString)").path
        let database = try Database(directory: directory, migrations: Migrations.all, readerCount: 2)
        defer {
            database.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let stores = Stores.sqlite(database)
        let events = try EventLog(stores: stores)
        let catalogue = try CatalogueService(stores: stores, events: events)
        let responses = ProductResponses(catalogue: catalogue, events: events)
        let inventory = InventoryService(stores: stores, stock: StockRegistry(stores: stores, events: events), idempotency: Idempotency(stores: stores))
        let main = try #require(try LocationService(stores: stores, events: events).find("main"))
        let product = try await catalogue.create(try JSONCoding.decode(NewProduct.self, from: Array(
            #"{"title":"Cup","variants":[{"sku":"C-1","price":{"amount":500,"currency":"GBP"}}]}"#.utf8)), actor: "t")
        #expect(try Self.available(responses, product.id) == 0)
        for expected in 1...5 {
            _ = try await inventory.adjust(sku: "C-1", location: main, delta: 1, reason: .received, actor: "t", note: nil)
            #expect(try Self.available(responses, product.id) == expected)
        }
        _ = try await catalogue.update(product.id, try JSONCoding.decode(ProductPatch.self, from: Array(#"{"status":"draft"}"#.utf8)), actor: "t")
        #expect(try responses.product(product.id)?.status == .draft)
        var query = ProductQuery()
        query.text = "cup"
        #expect(try JSONCoding.decode(PageBody<Product>.self, from: try responses.page(query)).items.map(\.id) == [product.id])
    }

    private static func available(_ responses: ProductResponses, _ id: ProductID) throws -> Int {
        guard let cached = try responses.product(id) else { return -1 }
        return try JSONCoding.decode(Product.self, from: cached.json).variants[0].available
    }
}
