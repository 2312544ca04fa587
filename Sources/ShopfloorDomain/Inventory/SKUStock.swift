import Synchronization

/// One actor per SKU: the only path that changes the SKU's `on_hand` and `reserved`.
///
/// Every operation decides on the actor's in-memory numbers and queues its durable write in the same
/// step, with no `await` between (``StoreWriter/enqueue(_:completion:)``), so decisions and writes for a
/// SKU happen in one order: two carts racing for the last unit get exactly one winner, and the loser
/// hears the true `available` without touching the database (after waiting, when units being freed
/// by a transaction outside the actor would make up its shortfall, for the actor to take note of
/// them). The caller resumes only after the write has committed; if it fails, the in-memory change is
/// undone. The database's own checks (`0 ≤ reserved ≤ on_hand`) stay the last line of defence.
public actor SKUStock {
    public nonisolated let sku: String
    private let writer: any StoreWriter
    private let ledger: StockLedger
    /// Units at each location (by id), as this actor last committed them.
    private var levels: [LocationID: StockCount]
    /// Operations under way or about to start; the registry evicts only idle actors.
    nonisolated let pins = Atomic<Int>(0)
    nonisolated let lastUsed = Atomic<UInt64>(0)
    /// Settlements expected and not yet noted, the units they free by location id, and who waits.
    private var pendingSettlements = 0
    private var unitsBeingFreed: [String: Int] = [:]
    private var waitingForSettlement: [CheckedContinuation<Void, Never>] = []

    /// Starts from `levels`, the SKU's stored numbers, read when no operation on the SKU is under way.
    init(sku: String, levels: [LocationID: StockCount], writer: any StoreWriter, ledger: StockLedger) {
        self.sku = sku
        self.levels = levels
        self.writer = writer
        self.ledger = ledger
    }

    /// Units free to reserve now over `locations`.
    public func available(at locations: [Location]) -> Int {
        locations.reduce(0) { $0 + max(0, levels[$1.id]?.free ?? 0) }
    }

    /// Reserves `quantity` units from `locations`, taking first from the one with most free units,
    /// then runs `record` in the same transaction (cart lines, reservation rows, events).
    /// Throws ``InventoryError/insufficientStock(sku:available:)`` when there are not enough.
    public func reserve<T: Sendable>(
        _ quantity: Int, from locations: [Location], actor: String,
        record: @escaping @Sendable (any WriteTransaction, [Allocation]) throws -> T
    ) async throws -> T {
        var available = available(at: locations)
        // Waits only when the units being freed would make up the shortfall.
        while quantity > available, quantity <= available + beingFreed(at: locations) {
            await nextSettlement()
            available = self.available(at: locations)
        }
        guard quantity <= available else { throw InventoryError.insufficientStock(sku: sku, available: available) }
        var remaining = quantity
        var allocations: [Allocation] = []
        for location in locations.sorted(by: { (levels[$0.id]?.free ?? 0) > (levels[$1.id]?.free ?? 0) }) where remaining > 0 {
            let take = min(remaining, max(0, levels[location.id]?.free ?? 0))
            if take > 0 {
                allocations.append(Allocation(location: location, quantity: take))
                remaining -= take
            }
        }
        let chosen = allocations
        return try await change(chosen.map { ($0.location, 0, $0.quantity) }, reason: "reserved", actor: actor) { transaction in
            try record(transaction, chosen)
        }
    }

    /// Returns reserved units to stock (a line removed, a cart deleted or expired).
    public func release<T: Sendable>(
        _ allocations: [Allocation], actor: String, record: @escaping @Sendable (any WriteTransaction) throws -> T
    ) async throws -> T {
        try await change(allocations.map { ($0.location, 0, -$0.quantity) }, reason: "released", actor: actor, record: record)
    }

    /// A change to this SKU's numbers made by a transaction of several SKUs that commits outside the
    /// actors; each actor takes note after the commit (``StockRegistry/settling(_:as:_:)``).
    public enum Settlement: Sendable {
        /// Reserved units go back to stock (a cart closing releases all its SKUs at once).
        case released
        /// Sold units go back on hand (an order cancelled before dispatch).
        case returned
        /// Reserved units leave stock, sold (an order placed): what is free does not change.
        case sold
    }

    /// Such a transaction, changing `allocations`, is about to be queued. Until ``settled(_:as:committed:)``
    /// takes note of it, readers may see numbers this actor does not have yet, so a request short of
    /// units that those being freed would make up waits for them rather than refuse units a client may
    /// just have seen come back (a cart read as expired), and a stocktake, which sets a number instead
    /// of moving one, waits for every settlement.
    func expectSettlement(_ allocations: [Allocation], as kind: Settlement) {
        pendingSettlements += 1
        guard kind != .sold else { return }
        for allocation in allocations { unitsBeingFreed[allocation.location.id.rawValue, default: 0] += allocation.quantity }
    }

    /// Takes note of an expected transaction (the same `allocations`): applies them if it committed.
    func settled(_ allocations: [Allocation], as kind: Settlement, committed: Bool) {
        for allocation in allocations {
            if kind != .sold { unitsBeingFreed[allocation.location.id.rawValue, default: 0] -= allocation.quantity }
            guard committed else { continue }
            switch kind {
            case .released: apply((allocation.location, 0, allocation.quantity), sign: -1)
            case .returned: apply((allocation.location, allocation.quantity, 0), sign: 1)
            case .sold: apply((allocation.location, allocation.quantity, allocation.quantity), sign: -1)
            }
        }
        pendingSettlements -= 1
        let waiting = waitingForSettlement
        waitingForSettlement = []
        for waiter in waiting { waiter.resume() }
    }

    /// Units being freed at these locations by settlements under way.
    private func beingFreed(at locations: [Location]) -> Int {
        locations.reduce(0) { $0 + (unitsBeingFreed[$1.id.rawValue] ?? 0) }
    }

    /// Waits until the next settlement is noted; only called while one is under way.
    private func nextSettlement() async {
        await withCheckedContinuation { waitingForSettlement.append($0) }
    }

    /// Changes on-hand units at one location (an adjustment), refused when it would fall below what
    /// is reserved there.
    public func adjust<T: Sendable>(
        _ delta: Int, at location: Location, reason: String, actor: String, note: String? = nil,
        record: @escaping @Sendable (any WriteTransaction) throws -> T
    ) async throws -> T {
        try await setOnHand(at: location, reason: reason, actor: actor, note: note, absolute: false, record: record) { $0 + delta }
    }

    /// Sets on-hand units at `location` to a counted number (stocktake).
    public func count<T: Sendable>(
        _ onHand: Int, at location: Location, actor: String, record: @escaping @Sendable (any WriteTransaction) throws -> T
    ) async throws -> T {
        try await setOnHand(at: location, reason: AdjustmentReason.stocktake.rawValue, actor: actor, note: nil, absolute: true, record: record) { _ in onHand }
    }

    /// Moves on-hand units at `location` to `target(current)`, decided on the numbers after any wait.
    /// An `absolute` target (a count) starts from every committed change; a relative one is applied
    /// by the ledger to the stored number, so it waits only when short.
    private func setOnHand<T: Sendable>(
        at location: Location, reason: String, actor: String, note: String?, absolute: Bool,
        record: @escaping @Sendable (any WriteTransaction) throws -> T, to target: (Int) -> Int
    ) async throws -> T {
        while absolute, pendingSettlements > 0 { await nextSettlement() }
        var level = levels[location.id] ?? StockCount(onHand: 0, reserved: 0)
        // Freed units help either way: a release lowers `reserved`, a return raises `on_hand`.
        while !absolute, target(level.onHand) < level.reserved, target(level.onHand) + (unitsBeingFreed[location.id.rawValue] ?? 0) >= level.reserved {
            await nextSettlement()
            level = levels[location.id] ?? level
        }
        let onHand = target(level.onHand)
        guard onHand >= level.reserved else {
            throw InventoryError.belowReserved(sku: sku, location: location.code, reserved: level.reserved, onHand: onHand)
        }
        return try await change([(location, onHand - level.onHand, 0)], reason: reason, actor: actor, note: note, record: record)
    }

    /// Applies the change in memory, queues it with `record` in one transaction, and undoes the memory
    /// change if the transaction fails. Nothing awaits between the decision and the queueing.
    private func change<T: Sendable>(
        _ deltas: [(location: Location, onHand: Int, reserved: Int)], reason: String, actor: String, note: String? = nil,
        record: @escaping @Sendable (any WriteTransaction) throws -> T
    ) async throws -> T {
        for delta in deltas { apply(delta, sign: 1) }
        let (sku, ledger) = (sku, ledger)
        do {
            return try await withCheckedThrowingContinuation { continuation in
                writer.enqueue({ transaction in
                    for delta in deltas {
                        try ledger.apply(
                            StockLedger.Change(sku: sku, location: delta.location, onHandDelta: delta.onHand, reservedDelta: delta.reserved,
                                               reason: reason, actor: actor, note: note),
                            in: transaction)
                    }
                    return try record(transaction)
                }, completion: { continuation.resume(with: $0) })
            }
        } catch {
            for delta in deltas { apply(delta, sign: -1) }
            throw error
        }
    }

    private func apply(_ delta: (location: Location, onHand: Int, reserved: Int), sign: Int) {
        var level = levels[delta.location.id] ?? StockCount(onHand: 0, reserved: 0)
        level.onHand += sign * delta.onHand
        level.reserved += sign * delta.reserved
        levels[delta.location.id] = level
    }
}

/// Units of a SKU reserved at one location.
public struct Allocation: Sendable, Equatable {
    public var location: Location
    public var quantity: Int

    public init(location: Location, quantity: Int) {
        self.location = location
        self.quantity = quantity
    }
}
