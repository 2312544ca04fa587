import Synchronization
import Testing
@testable import ShopfloorDomain
import ShopfloorStorage

struct SKUStockTests {
    private func setUp(stock units: Int) async throws -> (TestDatabase, StockRegistry, [Location]) {
        let store = try TestDatabase()
        let events = try EventLog(stores: store.stores)
        _ = try await CatalogueService(stores: store.stores, events: events).create(.make(skus: ["HOT-1"]), actor: "t")
        let locations = LocationService(stores: store.stores, events: try EventLog(stores: store.stores))
        _ = try await locations.create(code: "leeds", name: "Leeds", kind: .store, fulfilsOnline: true)
        let all = try locations.all()
        let registry = StockRegistry(stores: store.stores, events: try EventLog(stores: store.stores))
        if units > 0 {
            _ = try await registry.withStock("HOT-1") { stock in
                try await stock.adjust(units, at: all[0], reason: "received", actor: "t") { _ in }
            }
        }
        return (store, registry, all)
    }

    @Test func lastUnitGoesToExactlyOneOfManyConcurrentCallers() async throws {
        let (store, registry, locations) = try await setUp(stock: 1)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    do {
                        try await registry.withStock("HOT-1") { stock in
                            try await stock.reserve(1, from: locations, actor: "t") { _, _ in }
                        }
                        return true
                    } catch InventoryError.insufficientStock(_, let available) {
                        #expect(available == 0)
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        let level = try InventoryService(stores: store.stores, stock: registry, idempotency: Idempotency(stores: store.stores)).level("HOT-1")
        #expect(level.reserved == 1 && level.onHand == 1)
    }

    /// Random reserve, release, adjust and count steps against the actor and a plain reference model;
    /// after every step the database, the actor and the model agree and `0 ≤ reserved ≤ on_hand` holds.
    @Test(arguments: [1, 2, 3])
    func randomOperationsMatchTheReferenceModel(seed: UInt64) async throws {
        let (store, registry, locations) = try await setUp(stock: 0)
        var random = SeededGenerator(seed: seed)
        var model: [String: (onHand: Int, reserved: Int)] = Dictionary(uniqueKeysWithValues: locations.map { ($0.id.rawValue, (0, 0)) })
        var held: [Allocation] = []
        for _ in 0..<150 {
            let location = locations[Int.random(in: 0..<locations.count, using: &random)]
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let quantity = Int.random(in: 1...4, using: &random)
                let free = model.values.reduce(0) { $0 + $1.onHand - $1.reserved }
                do {
                    let allocations = try await registry.withStock("HOT-1") { stock in
                        try await stock.reserve(quantity, from: locations, actor: "t") { _, allocations in allocations }
                    }
                    #expect(quantity <= free)
                    for allocation in allocations {
                        model[allocation.location.id.rawValue]!.reserved += allocation.quantity
                        held.append(allocation)
                    }
                } catch InventoryError.insufficientStock(_, let available) {
                    #expect(quantity > free && available == free)
                }
            case 1 where !held.isEmpty:
                let allocation = held.remove(at: Int.random(in: 0..<held.count, using: &random))
                try await registry.withStock("HOT-1") { stock in try await stock.release([allocation], actor: "t") { _ in } }
                model[allocation.location.id.rawValue]!.reserved -= allocation.quantity
            case 2:
                let delta = Int.random(in: -3...5, using: &random)
                let level = model[location.id.rawValue]!
                do {
                    try await registry.withStock("HOT-1") { stock in
                        try await stock.adjust(delta, at: location, reason: "correction", actor: "t") { _ in }
                    }
                    model[location.id.rawValue]!.onHand += delta
                } catch InventoryError.belowReserved {
                    #expect(level.onHand + delta < level.reserved)
                }
            default:
                let counted = Int.random(in: 0...6, using: &random)
                let level = model[location.id.rawValue]!
                do {
                    try await registry.withStock("HOT-1") { stock in try await stock.count(counted, at: location, actor: "t") { _ in } }
                    model[location.id.rawValue]!.onHand = counted
                } catch InventoryError.belowReserved {
                    #expect(counted < level.reserved)
                }
            }
            let stored = try InventoryService(stores: store.stores, stock: registry, idempotency: Idempotency(stores: store.stores)).level("HOT-1")
            for level in stored.locations {
                let expected = model[locations.first { $0.code == level.location }!.id.rawValue]!
                #expect(level.onHand == expected.onHand && level.reserved == expected.reserved)
                #expect(0 <= level.reserved && level.reserved <= level.onHand)
            }
        }
    }

    /// A cart closing frees its units in a transaction outside the actor, which readers may see before
    /// the actor takes note. A reserve those units would satisfy waits for the note, and is refused
    /// only if the transaction fails; one they would not is refused at once.
    @Test(arguments: [true, false])
    func reserveShortOfUnitsWaitsForAFreeingUnderWay(commits: Bool) async throws {
        let (store, registry, locations) = try await setUp(stock: 1)
        let held = try await registry.withStock("HOT-1") { stock in
            try await stock.reserve(1, from: locations, actor: "a") { _, allocations in allocations }
        }
        let release = StockLedger.Change(sku: "HOT-1", location: held[0].location, onHandDelta: 0, reservedDelta: -1, reason: "released", actor: "a")
        let (freeing, open) = await heldOpen(registry, store.database, held, as: .released, writing: commits ? release : nil)
        let answered = Atomic<Bool>(false)
        let thief = Task {
            defer { answered.store(true, ordering: .relaxed) }
            return try await registry.withStock("HOT-1") { stock in
                try await stock.reserve(1, from: locations, actor: "b") { _, allocations in allocations }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let answeredEarly = answered.load(ordering: .relaxed)
        #expect(!answeredEarly, "a reserve short of units waits while units are being freed")
        // More than the freeing brings back: refused at once, without waiting for it.
        await #expect(throws: InventoryError.insufficientStock(sku: "HOT-1", available: 0)) {
            try await registry.withStock("HOT-1") { stock in try await stock.reserve(2, from: locations, actor: "c") { _, _ in } }
        }
        open()
        _ = try? await freeing.value
        if commits {
            #expect(try await thief.value == held)
            let level = try InventoryService(stores: store.stores, stock: registry, idempotency: Idempotency(stores: store.stores)).level("HOT-1")
            #expect(level.reserved == 1 && level.onHand == 1)
        } else {
            await #expect(throws: InventoryError.insufficientStock(sku: "HOT-1", available: 0)) { try await thief.value }
        }
    }

    /// A stocktake sets a number: while an order's units are going back on hand outside the actor, it
    /// waits for the actor's note, so the count is what is stored afterwards, not the count plus the return.
    @Test func stocktakeWaitsForAReturnUnderWay() async throws {
        let (store, registry, locations) = try await setUp(stock: 5)
        let returned = [Allocation(location: locations[0], quantity: 2)]
        let change = StockLedger.Change(sku: "HOT-1", location: locations[0], onHandDelta: 2, reason: "returned", actor: "order")
        let (returning, open) = await heldOpen(registry, store.database, returned, as: .returned, writing: change)
        let counting = Task {
            try await registry.withStock("HOT-1") { stock in try await stock.count(10, at: locations[0], actor: "t") { _ in } }
        }
        try await Task.sleep(for: .milliseconds(100))
        open()
        try await returning.value
        try await counting.value
        let level = try InventoryService(stores: store.stores, stock: registry, idempotency: Idempotency(stores: store.stores)).level("HOT-1")
        #expect(level.onHand == 10)
        let available = try await registry.withStock("HOT-1") { stock in await stock.available(at: locations) }
        #expect(available == 10)
    }

    /// A settlement of HOT-1's `units`, already expected by the actor when this returns, whose write
    /// waits for `open` and then applies `change` (or fails, when `change` is nil).
    private func heldOpen(
        _ registry: StockRegistry, _ database: Database, _ units: [Allocation], as kind: SKUStock.Settlement, writing change: StockLedger.Change?
    ) async -> (task: Task<Void, any Error>, open: @Sendable () -> Void) {
        let (started, starting) = AsyncStream.makeStream(of: Void.self)
        let (gate, opening) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            try await registry.settling(["HOT-1": units], as: kind) {
                starting.yield()
                for await _ in gate { break }
                guard let change else { throw InventoryError.insufficientStock(sku: "HOT-1", available: -1) }
                _ = try await database.writer.write { [ledger = registry.ledger] connection in try ledger.apply(change, in: connection) }
            }
        }
        for await _ in started { break }
        return (task, { opening.yield() })
    }

    /// The ledger reads a SKU's levels once per transaction and carries them from change to change;
    /// a change to a location in the same transaction makes it read them again.
    @Test func changesInOneTransactionCarryTheLevelsAndSeeALocationChange() async throws {
        let (store, registry, locations) = try await setUp(stock: 10)
        let ledger = registry.ledger
        let shop = locations[0]  // the one holding the 10 units
        let levels = try await store.database.writer.write { connection -> [InventoryLevel] in
            try connection.run("UPDATE locations SET fulfils_online = 1 WHERE id = ?", [.text(shop.id.rawValue)])
            let reserve = StockLedger.Change(sku: "HOT-1", location: shop, onHandDelta: 0, reservedDelta: 2, reason: "reserved", actor: "t")
            let first = try ledger.apply(reserve, in: connection)
            let second = try ledger.apply(reserve, in: connection)
            try connection.run("UPDATE locations SET fulfils_online = 0 WHERE id = ?", [.text(shop.id.rawValue)])
            let third = try ledger.apply(reserve, in: connection)
            return [first, second, third]
        }
        #expect(levels.map(\.reserved) == [2, 4, 6])
        #expect(levels.map(\.onHand) == [10, 10, 10])
        // No other location holds units: once the shop stops fulfilling online, nothing is available there.
        #expect(levels.map(\.available) == [8, 6, 0])
        let stored = try store.database.readers.read { connection in
            try connection.query("SELECT reserved FROM stock_levels WHERE sku = 'HOT-1' AND location_id = ?", [.text(shop.id.rawValue)]).first?["reserved"]
        }
        #expect(stored == .integer(6))
    }

    @Test func idleActorsAreEvictedAndReloadTheSameNumbers() async throws {
        let (store, _, locations) = try await setUp(stock: 0)
        let registry = StockRegistry(stores: store.stores, events: try EventLog(stores: store.stores), idleAfter: .zero)
        _ = try await registry.withStock("HOT-1") { stock in
            try await stock.adjust(7, at: locations[0], reason: "received", actor: "t") { _ in }
        }
        #expect(registry.count == 1)
        #expect(registry.evictIdle() == 1)
        let available = try await registry.withStock("HOT-1") { stock in await stock.available(at: locations) }
        #expect(available == 7)
    }
}

/// A small repeatable generator (SplitMix64), so a failing model run can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
