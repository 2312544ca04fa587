import ShopfloorDomain
import Synchronization

/// Encoded product responses held in memory, so reading a product costs no query and no encoding.
///
/// Freshness comes from the event log: every committed `product:<id>` or `stock:<sku>` event removes the
/// product's entry once the commit is on disk, before the writer's callers resume, so nothing acknowledged
/// is ever served stale. A load that raced with such an event is not stored: each load names the log
/// position it started from, and the cache remembers where each product (a tombstone, or the entry
/// that replaced one) and each SKU last changed; a load older than either is refused.
///
/// Bounded by the bytes of JSON held: past the budget the oldest entries go first, one by one (a
/// storefront's distinct searches touch most of a large catalogue, and emptying the whole cache at
/// once made every page after it cold); tombstones count against a number of entries. Whatever is
/// forgotten raises the bar every load must clear (`clearedAt`) to the change it remembered, so
/// forgetting cannot let a stale load in.
final class ProductCache: Sendable {
    /// A product's body (`nil` for a tombstone), where it last changed, and its place in the queue.
    private struct Slot {
        var json: [UInt8]?
        var status: Product.Status
        var skus: [String]
        var changedAt: Int64
        var stamp: Int
    }

    private struct State {
        var entries: [String: Slot] = [:]
        var productBySKU: [String: String] = [:]
        /// Where each SKU's stock last changed, for products not cached when it did.
        var skuChangedAt: [String: Int64] = [:]
        /// Everything loaded before this position is suspect (a change newer than it was forgotten).
        var clearedAt: Int64 = 0
        /// Ids in the order stored, oldest from `head`, each with the stamp it was given: an id stored
        /// again appears twice, and its older place, whose stamp no longer matches, is skipped.
        var order: [(id: String, stamp: Int)] = []
        var head = 0
        var nextStamp = 0
        var bytes = 0

        mutating func put(_ slot: Slot, for id: String) {
            var slot = slot
            slot.stamp = nextStamp
            entries[id] = slot
            order.append((id, nextStamp))
            nextStamp += 1
        }
    }

    private let state = Mutex(State())
    private let budget: Int
    /// Entries (bodies and tombstones) held at most.
    private let maxEntries: Int
    /// SKU changes remembered at most; past that they are forgotten at once and `clearedAt` rises.
    private let maxSKUChanges: Int

    /// `budget`: bytes of JSON to hold, 48 MiB by default (about 40,000 products of three variants).
    ///
    /// The maps are made at the size the budget implies (products of about a kilobyte, three SKUs
    /// each): growing a map of a hundred thousand keys rehashes them all under the lock, and every
    /// search waited about a tenth of a second each time.
    init(budget: Int = 48 << 20) {
        self.budget = budget
        let products = max(64, budget / 1024)
        maxEntries = 2 * products
        maxSKUChanges = 3 * products
        state.withLock { state in
            state.entries.reserveCapacity(maxEntries)
            state.productBySKU.reserveCapacity(3 * products)
            state.skuChangedAt.reserveCapacity(maxSKUChanges)
        }
    }

    func json(for id: String) -> (json: [UInt8], status: Product.Status)? {
        state.withLock { state in
            guard let slot = state.entries[id], let json = slot.json else { return nil }
            return (json, slot.status)
        }
    }

    /// Stores a response whose load began when the log stood at `loadedAt`, unless the product or
    /// one of its SKUs has changed since.
    func store(_ json: [UInt8], status: Product.Status, for id: String, skus: [String], loadedAt: Int64) {
        // Kept at its size: an encoder's buffer grows by doubling, a third of it unused on average.
        let json = json.capacity > json.count + 64 ? Array(unsafeUninitializedCapacity: json.count) { buffer, count in
            count = json.withUnsafeBufferPointer { buffer.initialize(fromContentsOf: $0) }
        } : json
        state.withLock { state in
            guard loadedAt >= state.clearedAt else { return }
            let previous = state.entries[id]
            if let previous, previous.changedAt > loadedAt { return }
            for sku in skus {
                if let at = state.skuChangedAt[sku], at > loadedAt { return }
            }
            if let old = previous?.json { state.bytes -= old.count }
            state.put(Slot(json: json, status: status, skus: skus, changedAt: previous?.changedAt ?? 0, stamp: 0), for: id)
            for sku in skus { state.productBySKU[sku] = id }
            state.bytes += json.count
            trim(&state)
        }
    }

    /// Drops what `event` makes stale.
    func invalidate(by event: Event) {
        let topic = event.topic
        if topic.hasPrefix("product:") {
            mark(String(topic.dropFirst("product:".count)), at: event.seq)
        } else if topic.hasPrefix("draft:") {
            mark(String(topic.dropFirst("draft:".count)), at: event.seq)
        } else if topic.hasPrefix("stock:") {
            let sku = String(topic.dropFirst("stock:".count))
            let cached = state.withLock { state in
                if state.skuChangedAt.count >= maxSKUChanges, state.skuChangedAt[sku] == nil {
                    // Forgotten all at once; every load from before this change is refused instead.
                    state.clearedAt = max(state.clearedAt, event.seq)
                    state.skuChangedAt.removeAll(keepingCapacity: true)
                }
                state.skuChangedAt[sku] = event.seq
                return state.productBySKU[sku]
            }
            if let cached { mark(cached, at: event.seq) }
        }
    }

    private func mark(_ id: String, at seq: Int64) {
        state.withLock { state in
            if let slot = state.entries[id], let json = slot.json {
                for sku in slot.skus where state.productBySKU[sku] == id { state.productBySKU.removeValue(forKey: sku) }
                state.bytes -= json.count
            }
            state.put(Slot(json: nil, status: .active, skus: [], changedAt: seq, stamp: 0), for: id)
            trim(&state)
        }
    }

    /// Evicts the oldest entries while the JSON held is over budget or the entries are too many, and
    /// packs the queue when places of entries stored again (or gone) make up most of it.
    private func trim(_ state: inout State) {
        while state.head < state.order.count, state.bytes > budget || state.entries.count > maxEntries {
            Self.evictOldest(&state)
        }
        if state.order.count - state.head > 2 * max(1024, state.entries.count) {
            let entries = state.entries
            state.order = state.order[state.head...].filter { entries[$0.id]?.stamp == $0.stamp }
            state.head = 0
        }
    }

    /// Forgets the entry at the head of the queue, unless it was stored again later (then a later
    /// place in the queue stands for it).
    private static func evictOldest(_ state: inout State) {
        let (id, stamp) = state.order[state.head]
        state.head += 1
        if let slot = state.entries[id], slot.stamp == stamp {
            state.entries.removeValue(forKey: id)
            state.clearedAt = max(state.clearedAt, slot.changedAt)
            if let json = slot.json {
                state.bytes -= json.count
                for sku in slot.skus where state.productBySKU[sku] == id { state.productBySKU.removeValue(forKey: sku) }
            }
        }
        if state.head > 4096, state.head * 2 > state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }
}
