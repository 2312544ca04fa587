#if canImport(Glibc)
import Glibc
#endif
import ShopfloorJSON
import Synchronization

/// Finds or creates the one ``SKUStock`` actor of a SKU, and evicts actors that sit idle.
///
/// There is never more than one actor per SKU: lookup, creation and eviction happen under one lock,
/// and an actor is evicted only when no operation holds it (its pin count is zero), so a new actor
/// always loads numbers that every earlier actor has finished writing.
public final class StockRegistry: Sendable {
    private let store: any StockStore
    private let writer: any StoreWriter
    /// Changes stock in a transaction; for writes that reach the ledger outside the actors.
    let ledger: StockLedger
    private let actors = Mutex<[String: SKUStock]>([:])
    private let idleMilliseconds: UInt64

    /// `events` tells the registry when a product is deleted, so its SKUs' actors go with their rows and
    /// a product created again with the same SKU starts from the database.
    public init(stores: Stores, events: EventLog, idleAfter: Duration = .seconds(300), clock: any WallClock = SystemClock()) {
        store = stores.stock
        writer = stores.writer
        ledger = StockLedger(store: stores.stock, events: events, clock: clock)
        idleMilliseconds = UInt64(idleAfter.components.seconds) * 1000
        _ = events.subscribe { [weak self] event in
            guard event.type == "product.deleted",
                  let deleted = try? JSONCoding.decode(ProductDeleted.self, from: Array(event.data.utf8))
            else { return }
            self?.actors.withLock { actors in for sku in deleted.skus { actors.removeValue(forKey: sku) } }
        }
    }

    /// Runs `body` with the SKU's actor, keeping it from eviction meanwhile.
    public func withStock<T: Sendable>(_ sku: String, _ body: (SKUStock) async throws -> T) async throws -> T {
        let stock = try actors.withLock { actors in
            let stock = try actors[sku] ?? SKUStock(sku: sku, levels: store.counts(of: sku), writer: writer, ledger: ledger)
            actors[sku] = stock
            stock.pins.add(1, ordering: .relaxed)
            return stock
        }
        defer {
            stock.lastUsed.store(Self.now(), ordering: .relaxed)
            stock.pins.subtract(1, ordering: .relaxed)
        }
        return try await body(stock)
    }

    /// Runs `body` with the actors of several SKUs, all kept from eviction meanwhile.
    public func withStocks<T: Sendable>(_ skus: [String], _ body: ([String: SKUStock]) async throws -> T) async throws -> T {
        guard let sku = skus.first else { return try await body([:]) }
        return try await withStock(sku) { stock in
            try await withStocks(Array(skus.dropFirst())) { others in
                var all = others
                all[sku] = stock
                return try await body(all)
            }
        }
    }

    /// Runs `write`, one transaction that changes `units` of several SKUs outside their actors, and
    /// then has each actor take note. Each actor expects the transaction before it is queued, so what
    /// readers may see committed meanwhile never meets a refusal on the actors' older numbers
    /// (``SKUStock/expectSettlement(_:as:)``).
    public func settling<T: Sendable>(
        _ units: [String: [Allocation]], as kind: SKUStock.Settlement, _ write: () async throws -> T
    ) async throws -> T {
        try await withStocks(units.keys.sorted()) { actors in
            for (sku, stock) in actors { await stock.expectSettlement(units[sku] ?? [], as: kind) }
            let result: Result<T, any Error>
            do { result = .success(try await write()) } catch { result = .failure(error) }
            let committed = if case .success = result { true } else { false }
            for (sku, stock) in actors { await stock.settled(units[sku] ?? [], as: kind, committed: committed) }
            return try result.get()
        }
    }

    /// Drops actors unused for the idle period; returns how many.
    @discardableResult
    public func evictIdle() -> Int {
        let cutoff = Self.now() &- idleMilliseconds
        return actors.withLock { actors in
            let idle = actors.filter { $0.value.pins.load(ordering: .relaxed) == 0 && $0.value.lastUsed.load(ordering: .relaxed) <= cutoff }
            for sku in idle.keys { actors.removeValue(forKey: sku) }
            return idle.count
        }
    }

    public var count: Int { actors.withLock { $0.count } }

    /// Milliseconds on the monotonic clock.
    private static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }
}
