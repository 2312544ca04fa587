import Testing
@testable import ShopfloorDomain
import ShopfloorStorage

struct CatalogueServiceTests {
    @Test func createdProductIsReadBackWithItsEvent() async throws {
        let store = try TestDatabase()
        let catalogue = CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        let created = try await catalogue.create(.make(), actor: "test")
        #expect(try catalogue.product(created.id) == created)
        let events = try EventLog(stores: store.stores).read(since: 0, topics: ["products"], limit: 10)
        #expect(events.map(\.type) == ["product.created"])
        #expect(events.first?.topic == "product:\(created.id)")
    }

    @Test func duplicateSKUIsAConflictAndStoresNothing() async throws {
        let store = try TestDatabase()
        let catalogue = CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        _ = try await catalogue.create(.make(skus: ["DUP-1"]), actor: "test")
        await #expect(throws: CatalogueError.self) {
            try await catalogue.create(.make(title: "Other", skus: ["NEW-1", "DUP-1"]), actor: "test")
        }
        #expect(try catalogue.products(ProductQuery()).items.count == 1)
        #expect(try EventLog(stores: store.stores).read(since: 0, topics: [], limit: 10).count == 1)
    }

    @Test func invalidInputListsEveryFailingField() async throws {
        let store = try TestDatabase()
        let catalogue = CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        let input = NewProduct.make(title: String(repeating: "x", count: 201), skus: ["bad sku"], amount: -1)
        do {
            _ = try await catalogue.create(input, actor: "test")
            Issue.record("expected a validation error")
        } catch let error as ValidationError {
            #expect(Set(error.errors.map(\.field)) == ["title", "variants[0].sku", "variants[0].price.amount"])
        }
    }

    @Test func searchRanksTitleMatchesFirstAndMatchesPrefixes() async throws {
        let store = try TestDatabase()
        let catalogue = CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        let inDescription = try await catalogue.create(.make(title: "Plate", description: "goes with the teapot", skus: ["P-1"]), actor: "t")
        let inTitle = try await catalogue.create(.make(title: "Teapot", skus: ["T-1"]), actor: "t")
        _ = try await catalogue.create(.make(title: "Spoon", skus: ["S-1"]), actor: "t")
        var query = ProductQuery()
        query.text = "teap"
        #expect(try catalogue.products(query).items.map(\.id) == [inTitle.id, inDescription.id])
        query.text = "S-1"
        #expect(try catalogue.products(query).items.map(\.title) == ["Spoon"])
    }

    @Test func repeatedSearchFollowsCatalogueChanges() async throws {
        let store = try TestDatabase()
        let catalogue = CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        let teapot = try await catalogue.create(.make(title: "Teapot", skus: ["T-1"]), actor: "t")
        var query = ProductQuery()
        query.text = "kettle"
        struct Items: Decodable { var items: [Product] }
        func titles() throws -> [String] {
            try JSONCoding.decode(Items.self, from: try catalogue.productsJSON(query)).items.map(\.title)
        }
        #expect(try titles() == [])
        _ = try await catalogue.update(teapot.id, try JSONCoding.decode(ProductPatch.self, from: Array(#"{"title":"Kettle"}"#.utf8)), actor: "t")
        #expect(try titles() == ["Kettle"])
        #expect(try titles() == ["Kettle"])
        try await catalogue.delete(teapot.id)
        #expect(try titles() == [])
    }

    @Test func pagesCoverEveryProductExactlyOnce() async throws {
        let store = try TestDatabase()
        let catalogue = CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        let inputs = (0..<120).map { NewProduct.make(title: "Item \($0)", skus: ["SKU-\($0)"]) }
        let created = try await catalogue.create(inputs, actor: "t")
        var query = ProductQuery()
        query.limit = 50
        var seen: [ProductID] = []
        while true {
            let page = try catalogue.products(query)
            seen += page.items.map(\.id)
            guard let next = page.nextCursor else { break }
            query.cursor = ProductQuery.Cursor(token: next)
        }
        #expect(seen == created.map(\.id))
    }

    @Test func imagesMustBeWebURLsThatParse() {
        #expect(CatalogueService.isWebURL("https://images.example/1/a.jpg"))
        #expect(CatalogueService.isWebURL("http://[::1]:8080/a.png"))
        #expect(!CatalogueService.isWebURL("http://["))
        #expect(!CatalogueService.isWebURL("ftp://example.com/a"))
        #expect(!CatalogueService.isWebURL("https:///path-only"))
        #expect(!CatalogueService.isWebURL("https://example.com/a b"))
    }

    @Test func barcodesNeedAValidCheckDigit() {
        #expect(CatalogueService.isValidBarcode("5012345678900"))
        #expect(!CatalogueService.isValidBarcode("5012345678901"))
        #expect(CatalogueService.isValidBarcode("96385074"))
        #expect(!CatalogueService.isValidBarcode("12345"))
    }
}

struct ProductCacheTests {
    @Test func cachedProductReflectsEveryAcknowledgedChange() async throws {
        let store = try TestDatabase()
        let events = try EventLog(stores: store.stores)
        let catalogue = CatalogueService(stores: store.stores, events: events)
        let inventory = InventoryService(stores: store.stores, stock: StockRegistry(stores: store.stores, events: try EventLog(stores: store.stores)), idempotency: Idempotency(stores: store.stores))
        let main = try #require(try LocationService(stores: store.stores, events: try EventLog(stores: store.stores)).find("main"))
        let product = try await catalogue.create(.make(skus: ["C-1"]), actor: "t")
        #expect(try Self.available(catalogue, product.id) == 0)
        for expected in 1...5 {
            _ = try await inventory.adjust(sku: "C-1", location: main, delta: 1, reason: .received, actor: "t", note: nil)
            #expect(try Self.available(catalogue, product.id) == expected)
        }
        _ = try await catalogue.update(product.id, try JSONCoding.decode(ProductPatch.self, from: Array(#"{"status":"draft"}"#.utf8)), actor: "t")
        #expect(try catalogue.productJSON(product.id)?.status == .draft)
    }

    private static func available(_ catalogue: CatalogueService, _ id: ProductID) throws -> Int {
        guard let cached = try catalogue.productJSON(id) else { return -1 }
        return try JSONCoding.decode(Product.self, from: cached.json).variants[0].available
    }
}
