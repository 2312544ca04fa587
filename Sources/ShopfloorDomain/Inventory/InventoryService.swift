/// Stock levels per SKU and location: read them, adjust them with a reason, count them.
public struct InventoryService: Sendable {
    private let store: any StockStore
    private let idempotency: Idempotency
    private let stock: StockRegistry

    public init(stores: Stores, stock: StockRegistry, idempotency: Idempotency) {
        store = stores.stock
        self.idempotency = idempotency
        self.stock = stock
    }

    public func level(_ sku: String) throws -> InventoryLevel {
        try requireSKU(sku)
        return try store.level(of: sku)
    }

    /// Adds `delta` units (negative removes) at `location`, through the SKU's actor. With an idempotency
    /// key, a repeat returns the first result and changes nothing (``Idempotency``); the key is scoped
    /// to the caller and the SKU.
    public func adjust(sku: String, location: Location, delta: Int, reason: AdjustmentReason, actor: String, note: String?,
                       request: IdempotentRequest? = nil) async throws -> InventoryLevel {
        var validator = Validator()
        validator.check(delta != 0 && (-1_000_000...1_000_000).contains(delta), "delta", "must be a non-zero whole number from -1000000 to 1000000")
        validator.text(note, "note", max: 500, required: false)
        try validator.throwIfAny()
        let store = store
        return try await idempotency.perform(request, scope: "adjust:\(actor):\(sku)") { recorder in
            // Inside: a repeat gets its first answer even if the product has gone since.
            try self.requireSKU(sku)
            return try await stock.withStock(sku) { stock in
                try await stock.adjust(delta, at: location, reason: reason.rawValue, actor: actor, note: note) { transaction in
                    let level = try store.level(of: sku, in: transaction)
                    try recorder?.record(level, in: transaction)
                    return level
                }
            }
        }
    }

    /// Sets the counted units at `location` (a stocktake), recorded as a movement of the difference.
    public func setLevel(sku: String, location: Location, onHand: Int, actor: String) async throws -> InventoryLevel {
        var validator = Validator()
        validator.check((0...100_000_000).contains(onHand), "on_hand", "must be a whole number from 0 to 100000000")
        try validator.throwIfAny()
        try requireSKU(sku)
        let store = store
        return try await stock.withStock(sku) { stock in
            try await stock.count(onHand, at: location, actor: actor) { transaction in try store.level(of: sku, in: transaction) }
        }
    }

    private func requireSKU(_ sku: String) throws {
        guard try store.skuExists(sku) else { throw InventoryError.unknownSKU(sku) }
    }

    /// Movements of a SKU, newest first, paged by movement id.
    public func movements(sku: String, before: Int64?, limit: Int) throws -> Page<StockMovement> {
        try requireSKU(sku)
        let limit = max(1, min(limit, 200))
        let movements = try store.movements(of: sku, before: before ?? Int64.max, limit: limit + 1)
        let next = movements.count > limit ? movements[limit - 1].id : nil
        return Page(items: Array(movements.prefix(limit)), nextCursor: next.map { ProductQuery.Cursor.after(seq: $0).token })
    }
}
