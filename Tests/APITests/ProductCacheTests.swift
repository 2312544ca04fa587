@testable import ShopfloorAPI
import ShopfloorDomain
import Testing

/// The cache of product bodies: bounded by bytes, oldest out first, and never stale.
struct ProductCacheTests {
    private static func body(_ size: Int) -> [UInt8] { Array(repeating: UInt8(ascii: "x"), count: size) }

    private static func stockEvent(_ sku: String, at seq: Int64) -> Event {
        Event(seq: seq, type: "stock.changed", topic: "stock:\(sku)", at: "2026-12-07T00:00:00Z", data: "{}")
    }

    @Test func oldestEntriesGoFirstOnceTheBudgetIsFull() {
        let cache = ProductCache(budget: 1000)
        for n in 0..<10 { cache.store(Self.body(100), status: .active, for: "p\(n)", skus: ["S\(n)"], loadedAt: 1) }
        #expect((0..<10).allSatisfy { cache.json(for: "p\($0)") != nil })
        cache.store(Self.body(100), status: .active, for: "p0", skus: ["S0"], loadedAt: 1)
        cache.store(Self.body(250), status: .active, for: "p10", skus: ["S10"], loadedAt: 1)
        // p0 was stored again, so p1, p2 and p3 were the oldest.
        #expect(cache.json(for: "p0") != nil && cache.json(for: "p10") != nil)
        #expect([1, 2, 3].allSatisfy { cache.json(for: "p\($0)") == nil })
        #expect((4..<10).allSatisfy { cache.json(for: "p\($0)") != nil })
    }

    @Test func aChangeRemovesTheEntryAndRefusesOlderLoads() {
        let cache = ProductCache(budget: 1000)
        cache.store(Self.body(10), status: .active, for: "p1", skus: ["S1"], loadedAt: 5)
        cache.invalidate(by: Self.stockEvent("S1", at: 7))
        #expect(cache.json(for: "p1") == nil)
        cache.store(Self.body(10), status: .active, for: "p1", skus: ["S1"], loadedAt: 6)
        #expect(cache.json(for: "p1") == nil, "a load begun before the change is stale")
        cache.store(Self.body(10), status: .active, for: "p1", skus: ["S1"], loadedAt: 7)
        #expect(cache.json(for: "p1") != nil)
    }

    @Test func aForgottenTombstoneStillRefusesOlderLoads() {
        // Many changes push the tombstone of p1 out of the queue; a load begun before its change
        // must still be refused.
        let cache = ProductCache(budget: 100)
        cache.store(Self.body(10), status: .active, for: "p1", skus: ["S1"], loadedAt: 1)
        cache.invalidate(by: Self.stockEvent("S1", at: 2))
        for n in 0..<10_000 {
            cache.store(Self.body(10), status: .active, for: "q\(n)", skus: ["T\(n)"], loadedAt: 3)
            cache.invalidate(by: Self.stockEvent("T\(n)", at: Int64(4 + n)))
        }
        cache.store(Self.body(10), status: .active, for: "p1", skus: ["S1"], loadedAt: 1)
        #expect(cache.json(for: "p1") == nil)
    }

    @Test func aLoadOlderThanTheEntryItWouldReplaceIsRefused() {
        let cache = ProductCache(budget: 1000)
        cache.store(Self.body(10), status: .active, for: "p1", skus: ["S1"], loadedAt: 5)
        cache.invalidate(by: Self.stockEvent("S1", at: 10))
        cache.store(Array("fresh".utf8), status: .active, for: "p1", skus: ["S1"], loadedAt: 10)
        // A slower load that read the row before the change ends last: the fresh body stays.
        cache.store(Array("stale".utf8), status: .active, for: "p1", skus: ["S1"], loadedAt: 9)
        #expect(cache.json(for: "p1")?.json == Array("fresh".utf8))
    }

    @Test func aStockChangeToAnUncachedProductRefusesOlderLoads() {
        let cache = ProductCache(budget: 1000)
        cache.invalidate(by: Self.stockEvent("S9", at: 20))
        cache.store(Self.body(10), status: .active, for: "p9", skus: ["S8", "S9"], loadedAt: 19)
        #expect(cache.json(for: "p9") == nil)
        cache.store(Self.body(10), status: .active, for: "p9", skus: ["S8", "S9"], loadedAt: 20)
        #expect(cache.json(for: "p9") != nil)
    }

    @Test func aBusyProductDoesNotPushOutTheOthers() {
        let cache = ProductCache(budget: 100_000)
        for n in 0..<10 { cache.store(Self.body(10), status: .active, for: "c\(n)", skus: ["C\(n)"], loadedAt: 1) }
        for n in 0..<20_000 {
            cache.invalidate(by: Self.stockEvent("HOT", at: Int64(2 + n)))
            cache.store(Self.body(10), status: .active, for: "hot", skus: ["HOT"], loadedAt: Int64(2 + n))
        }
        #expect((0..<10).allSatisfy { cache.json(for: "c\($0)") != nil })
        #expect(cache.json(for: "hot") != nil)
    }
}
