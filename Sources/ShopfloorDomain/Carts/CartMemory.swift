import Synchronization

/// What the next line write of a cart needs, kept from the last one, so that a write to a warm cart
/// reads nothing from the store: the cart (unpriced), the units it holds and where, the facts of the
/// variants its lines are made from, and the locations carts reserve from.
///
/// Rules: only code holding a cart's lock reads or fills that cart's entry, and every other change to
/// a cart (checkout details, completion, closing) forgets it under the lock first. A `product.*` or
/// `location.*` event forgets everything (lines show catalogue titles and prices; locations decide
/// where units come from) and moves the generation on: what was read before that is never remembered
/// after it. Each table holds at most `capacity` entries and starts again empty past it.
final class CartMemory: Sendable {
    struct Entry: Sendable {
        var cart: Cart
        /// The units the cart holds, by SKU and location, as its reservation rows say.
        var held: [String: [Allocation]]
    }

    private struct State {
        var carts: [String: Entry] = [:]
        var variants: [String: CartVariant] = [:]
        var locations: [String: [Location]] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// To pass back to ``remember(_:variant:locations:since:)`` with what is read after this.
    var generation: UInt64 { state.withLock { $0.generation } }

    func entry(_ id: CartID) -> Entry? { state.withLock { $0.carts[id.rawValue] } }
    func variant(_ sku: String) -> CartVariant? { state.withLock { $0.variants[sku] } }
    func locations(_ key: String) -> [Location]? { state.withLock { $0.locations[key] } }

    /// Keeps what a write read or left, unless everything was forgotten since `generation`: then the
    /// cart's older entry goes too, as it is older still.
    func remember(_ entry: Entry?, variant: (sku: String, facts: CartVariant)? = nil, locations: (key: String, list: [Location])? = nil,
                  since generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else {
                if let entry { state.carts[entry.cart.id.rawValue] = nil }
                return
            }
            if let entry { Self.store(entry, at: entry.cart.id.rawValue, in: &state.carts, capacity: capacity) }
            if let variant { Self.store(variant.facts, at: variant.sku, in: &state.variants, capacity: capacity) }
            if let locations { Self.store(locations.list, at: locations.key, in: &state.locations, capacity: capacity) }
        }
    }

    /// Under the cart's lock, before changing the cart other than through a line write.
    func forget(_ id: CartID) {
        _ = state.withLock { $0.carts.removeValue(forKey: id.rawValue) }
    }

    func forgetAll() {
        state.withLock { state in
            state = State(generation: state.generation &+ 1)
        }
    }

    private static func store<Value>(_ value: Value, at key: String, in table: inout [String: Value], capacity: Int) {
        if table.count >= capacity && table[key] == nil { table.removeAll() }
        table[key] = value
    }
}

extension [Allocation] {
    /// The allocations to release for `taking` units (all when `nil`): from the location holding most
    /// first, then by location code, as the reservation rows would be read.
    func taking(_ taking: Int?) -> [Allocation] {
        var remaining = taking ?? Int.max
        var allocations: [Allocation] = []
        for held in sorted(by: { ($0.quantity, $1.location.code) > ($1.quantity, $0.location.code) }) where remaining > 0 {
            let take = Swift.min(remaining, held.quantity)
            allocations.append(Allocation(location: held.location, quantity: take))
            remaining -= take
        }
        return allocations
    }

    /// These allocations with `change` added (or, for a negative sign, taken away) per location;
    /// locations left with nothing drop out.
    func adding(_ change: [Allocation], sign: Int = 1) -> [Allocation] {
        var result = self
        for allocation in change {
            if let index = result.firstIndex(where: { $0.location.id == allocation.location.id }) {
                result[index].quantity += sign * allocation.quantity
            } else {
                result.append(Allocation(location: allocation.location, quantity: sign * allocation.quantity))
            }
        }
        return result.filter { $0.quantity > 0 }
    }
}
