import Testing
@testable import ShopfloorDomain
import ShopfloorStorage

struct InventoryServiceTests {
    private func setUp(threshold: Int? = nil) async throws -> (TestDatabase, InventoryService, Location, EventLog) {
        let store = try TestDatabase()
        _ = try await CatalogueService(stores: store.stores, events: try EventLog(stores: store.stores)).create(.make(skus: ["MUG-1"], threshold: threshold), actor: "t")
        let main = try #require(try LocationService(stores: store.stores, events: try EventLog(stores: store.stores)).find("main"))
        return (store, InventoryService(stores: store.stores, stock: StockRegistry(stores: store.stores, events: try EventLog(stores: store.stores)), idempotency: Idempotency(stores: store.stores)), main, try EventLog(stores: store.stores))
    }

    @Test func adjustmentChangesLevelRecordsMovementAndOneEvent() async throws {
        let (store, inventory, main, events) = try await setUp()
        let before = try events.read(since: 0, topics: ["stock"], limit: 100).count
        let level = try await inventory.adjust(sku: "MUG-1", location: main, delta: 7, reason: .received, actor: "admin:k", note: "delivery")
        #expect(level.onHand == 7 && level.available == 7 && level.reserved == 0)
        let movements = try inventory.movements(sku: "MUG-1", before: nil, limit: 10).items
        #expect(movements.count == 1)
        #expect(movements[0].delta == 7 && movements[0].onHandBefore == 0 && movements[0].onHandAfter == 7 && movements[0].reason == "received")
        let stock = try events.read(since: 0, topics: ["stock:MUG-1"], limit: 100)
        #expect(stock.count == before + 1)
        #expect(stock.last?.data.contains(#""available":7"#) == true)
        _ = store
    }

    @Test func goingBelowZeroIsRefusedAndChangesNothing() async throws {
        let (store, inventory, main, events) = try await setUp()
        _ = try await inventory.adjust(sku: "MUG-1", location: main, delta: 2, reason: .received, actor: "a", note: nil)
        let seq = try events.read(since: 0, topics: [], limit: 1000).last?.seq ?? 0
        await #expect(throws: InventoryError.self) {
            try await inventory.adjust(sku: "MUG-1", location: main, delta: -3, reason: .damaged, actor: "a", note: nil)
        }
        #expect(try inventory.level("MUG-1").onHand == 2)
        #expect(try events.read(since: seq, topics: [], limit: 10).isEmpty)
        #expect(try inventory.movements(sku: "MUG-1", before: nil, limit: 10).items.count == 1)
        _ = store
    }

    @Test func stocktakeRecordsTheDifference() async throws {
        let (store, inventory, main, _) = try await setUp()
        _ = try await inventory.adjust(sku: "MUG-1", location: main, delta: 10, reason: .received, actor: "a", note: nil)
        let level = try await inventory.setLevel(sku: "MUG-1", location: main, onHand: 4, actor: "a")
        #expect(level.onHand == 4)
        let movement = try #require(try inventory.movements(sku: "MUG-1", before: nil, limit: 1).items.first)
        #expect(movement.reason == "stocktake" && movement.delta == -6)
        _ = store
    }

    @Test func stockLowIsEmittedOnceWhenCrossingTheThreshold() async throws {
        let (store, inventory, main, events) = try await setUp(threshold: 3)
        _ = try await inventory.adjust(sku: "MUG-1", location: main, delta: 5, reason: .received, actor: "a", note: nil)
        _ = try await inventory.adjust(sku: "MUG-1", location: main, delta: -2, reason: .soldInStore, actor: "a", note: nil)
        _ = try await inventory.adjust(sku: "MUG-1", location: main, delta: -1, reason: .soldInStore, actor: "a", note: nil)
        let low = try events.read(since: 0, topics: ["stock"], limit: 100).filter { $0.type == "stock.low" }
        #expect(low.count == 1)
        #expect(low.first?.data.contains(#""available":3"#) == true)
        _ = store
    }

    @Test func idempotencyKeyAppliesOnce() async throws {
        let (store, inventory, main, _) = try await setUp()
        let first = try await inventory.adjust(sku: "MUG-1", location: main, delta: 3, reason: .received, actor: "a", note: nil, request: IdempotentRequest(key: "k1", fingerprint: [1]))
        let again = try await inventory.adjust(sku: "MUG-1", location: main, delta: 3, reason: .received, actor: "a", note: nil, request: IdempotentRequest(key: "k1", fingerprint: [1]))
        #expect(first == again)
        #expect(try inventory.level("MUG-1").onHand == 3)
        _ = store
    }

    @Test func unknownSKUIsRefused() async throws {
        let (store, inventory, main, _) = try await setUp()
        await #expect(throws: InventoryError.unknownSKU("NOPE")) {
            try await inventory.adjust(sku: "NOPE", location: main, delta: 1, reason: .received, actor: "a", note: nil)
        }
        _ = store
    }
}

/// The one idempotency mechanism on stock adjustments.
struct IdempotencyTests {
    @Test func concurrentDuplicatesApplyOnceAndAllGetTheFirstAnswer() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", units: 0)
        let request = IdempotentRequest(key: "delivery-1", fingerprint: [9])
        let main = shop.main
        let answers = try await withThrowingTaskGroup(of: InventoryLevel.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await shop.inventory.adjust(sku: "MUG-1", location: main, delta: 5, reason: .received, actor: "a", note: nil, request: request)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 8 && Set(answers.map(\.onHand)) == [5])
        #expect(try shop.levels("MUG-1") == (5, 0))
    }

    @Test func theSameKeyWithAnotherRequestIsRefusedAndAFailureStoresNothing() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", units: 0)
        await #expect(throws: InventoryError.self) {
            try await shop.inventory.adjust(sku: "MUG-1", location: shop.main, delta: -1, reason: .damaged, actor: "a", note: nil,
                                            request: IdempotentRequest(key: "k", fingerprint: [1]))
        }
        // The failure stored nothing: the key is free, and its first success is what it keeps.
        let first = try await shop.inventory.adjust(sku: "MUG-1", location: shop.main, delta: 2, reason: .received, actor: "a", note: nil,
                                                    request: IdempotentRequest(key: "k", fingerprint: [2]))
        await #expect(throws: IdempotencyError.keyReused("k")) {
            try await shop.inventory.adjust(sku: "MUG-1", location: shop.main, delta: 3, reason: .received, actor: "a", note: nil,
                                            request: IdempotentRequest(key: "k", fingerprint: [3]))
        }
        #expect(first.onHand == 2)
        #expect(try shop.levels("MUG-1") == (2, 0))
    }
}
