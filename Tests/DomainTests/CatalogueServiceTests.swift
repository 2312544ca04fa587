@testable import ShopfloorDomain
import ShopfloorJSON
import ShopfloorStorage
import Testing

struct CatalogueServiceTests {
    @Test func createdProductIsReadBackWithItsEvent() async throws {
        let store = try TestDatabase()
        let catalogue = try CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        let created = try await catalogue.create(.make(), actor: "test")
        #expect(try catalogue.product(created.id) == created)
        let events = try EventLog(stores: store.stores).read(since: 0, topics: ["products"], limit: 10)
        #expect(events.map(\.type) == ["product.created"])
        #expect(events.first?.topic == "product:\(created.id)")
    }

    @Test func duplicateSKUIsAConflictAndStoresNothing() async throws {
        let store = try TestDatabase()
        let catalogue = try CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        _ = try await catalogue.create(.make(skus: ["DUP-1"]), actor: "test")
        await #expect(throws: CatalogueError.self) {
            try await catalogue.create(.make(title: "Other", skus: ["NEW-1", "DUP-1"]), actor: "test")
        }
        #expect(try catalogue.products(ProductQuery()).items.count == 1)
        #expect(try EventLog(stores: store.stores).read(since: 0, topics: [], limit: 10).count == 1)
    }

    @Test func invalidInputListsEveryFailingField() async throws {
        let store = try TestDatabase()
        let catalogue = try CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
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
        let catalogue = try CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
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
        let catalogue = try CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
        let teapot = try await catalogue.create(.make(title: "Teapot", skus: ["T-1"]), actor: "t")
        var query = ProductQuery()
        query.text = "kettle"
        func titles() throws -> [String] { try catalogue.products(query).items.map(\.title) }
        #expect(try titles() == [])
        _ = try await catalogue.update(teapot.id, try JSONCoding.decode(ProductPatch.self, from: Array(#"{"title":"Kettle"}"#.utf8)), actor: "t")
        #expect(try titles() == ["Kettle"])
        #expect(try titles() == ["Kettle"])
        try await catalogue.delete(teapot.id)
        #expect(try titles() == [])
    }

    @Test func pagesCoverEveryProductExactlyOnce() async throws {
        let store = try TestDatabase()
        let catalogue = try CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores))
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
