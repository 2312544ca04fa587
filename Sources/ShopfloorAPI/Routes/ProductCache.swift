import ShopfloorDomain
import Synchronization

/// Encoded product responses held in memory, so reading a product costs no query and no encoding.
///
/// Freshness comes from the event log: every committed `product:<id>` or `stock:<sku>` event removes the
/// product's entry once the commit is on disk, before the writer's callers resume, so nothing acknowledged
/// is ever served stale. A load that raced with such an event is not stored: each entry remembers the
/// log position its load started from, and a newer invalidation (kept as a tombstone) wins.
///
/// Bounded by the bytes of JSON held: past the budget the oldest entries go first, one by one (a
/// storefront's distinct searches touch most of a large catalogue, and emptying the whole cache at
/// once made every page after it cold). A tombstone that goes raises the bar every load must clear
/// (`clearedAt`), so forgetting it cannot let a stale load in.
final class ProductCache: Sendable {
    private enum Entry {
        case product(json: [UInt8], status: Product.Status, skus: [String])
        /// Changed at this log position; loads that started before it must not be stored.
        case changed(at: Int64)
    }

    /// An entry and its place in the eviction queue.
    private struct Slot {
        var entry: Entry
        var stamp: Int
    }

    private struct State {
        var entries: [String: Slot] = [:]
        var productBySKU: [String: String] = [:]
        /// Everything loaded before this position is suspect (a tombstone newer than it was dropped).
        var clearedAt: Int64 = 0
        /// Ids in the order stored, oldest from `head`, each with the stamp it was given: an id stored
        /// again appears twice, and its older place, whose stamp no longer matches, is skipped.
        var order: [(id: String, stamp: Int)] = []
        var head = 0
        var nextStamp = 0
        var bytes = 0

        mutating func put(_ entry: Entry, for id: String) {
            entries[id] = Slot(entry: entry, stamp: nextStamp)
            order.append((id, nextStamp))
            nextStamp += 1
        }
    }

    private let state = Mutex(State())
    private let budget: Int

    /// `budget`: bytes of JSON to hold, 48 MiB by default (about 40,000 products of three variants).
    ///
    /// The maps are made at the size the budget implies (products of about a kilobyte, three SKUs
    /// each): growing a map of a hundred thousand keys rehashes them all under the lock, and every
    /// search waited about a tenth of a second each time.
    init(budget: Int = 48 << 20) {
        self.budget = budget
        let products = budget / 1024
        state.withLock { state in
            state.entries.reserveCapacity(products)
            state.productBySKU.reserveCapacity(3 * products)
        }
    }

    func json(for id: String) -> (json: [UInt8], status: Product.Status)? {
        state.withLock { state in
            if case .product(let json, let status, _)? = state.entries[id]?.entry { return (json, status) }
            return nil
        }
    }

    /// Stores a response whose load began when the log stood at `loadedAt`, unless the product has
    /// changed since.
    func store(_ json: [UInt8], status: Product.Status, for id: String, skus: [String], loadedAt: Int64) {
        // Kept at its size: an encoder's buffer grows by doubling, a third of it unused on average.
        let json = json.capacity > json.count + 64 ? Array(unsafeUninitializedCapacity: json.count) { buffer, count in
            count = json.withUnsafeBufferPointer { buffer.initialize(fromContentsOf: $0) }
        } : json
        state.withLock { state in
            guard loadedAt >= state.clearedAt else { return }
            switch state.entries[id]?.entry {
            case .changed(let at)? where at > loadedAt: return
            case .product(let old, _, _)?: state.bytes -= old.count
            default: break
            }
            state.put(.product(json: json, status: status, skus: skus), for: id)
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
            if let id = state.withLock({ $0.productBySKU[sku] }) { mark(id, at: event.seq) }
        }
    }

    private func mark(_ id: String, at seq: Int64) {
        state.withLock { state in
            if case .product(let json, _, let skus)? = state.entries[id]?.entry {
                for sku in skus { state.productBySKU.removeValue(forKey: sku) }
                state.bytes -= json.count
            }
            state.put(.changed(at: seq), for: id)
            trim(&state)
        }
    }

    /// Evicts the oldest entries while the JSON held is over budget, or the queue (tombstones and the
    /// places of entries stored again) is long beside the entries.
    private func trim(_ state: inout State) {
        while state.head < state.order.count,
              state.bytes > budget || state.order.count - state.head > 4 * max(1024, state.entries.count) {
            Self.evictOldest(&state)
        }
    }

    /// Forgets the entry at the head of the queue, unless it was stored again later (then a later
    /// place in the queue stands for it).
    private static func evictOldest(_ state: inout State) {
        let (id, stamp) = state.order[state.head]
        state.head += 1
        if let slot = state.entries[id], slot.stamp == stamp {
            state.entries.removeValue(forKey: id)
            switch slot.entry {
            case .product(let json, _, let skus):
                state.bytes -= json.count
                for sku in skus where state.productBySKU[sku] == id { state.productBySKU.removeValue(forKey: sku) }
            case .changed(let at):
                state.clearedAt = max(state.clearedAt, at)
            }
        }
        if state.head > 4096, state.head * 2 > state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }
}
