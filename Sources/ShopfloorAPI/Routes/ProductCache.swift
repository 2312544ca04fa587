import ShopfloorDomain
import Synchronization

/// Encoded product responses held in memory, so reading a product costs no query and no encoding.
///
/// Freshness comes from the event log: every committed `product:<id>` or `stock:<sku>` event removes the
/// product's entry once the commit is on disk, before the writer's callers resume, so nothing acknowledged
/// is ever served stale. A load that raced with such an event is not stored: each entry remembers the
/// log position its load started from, and a newer invalidation (kept as a tombstone) wins.
final class ProductCache: Sendable {
    private enum Entry {
        case product(json: [UInt8], status: Product.Status, skus: [String])
        /// Changed at this log position; loads that started before it must not be stored.
        case changed(at: Int64)
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var productBySKU: [String: String] = [:]
        /// Everything loaded before this position is suspect (the cache was emptied then).
        var clearedAt: Int64 = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    func json(for id: String) -> (json: [UInt8], status: Product.Status)? {
        state.withLock { state in
            if case .product(let json, let status, _)? = state.entries[id] { return (json, status) }
            return nil
        }
    }

    /// Stores a response whose load began when the log stood at `loadedAt`, unless the product has
    /// changed since.
    func store(_ json: [UInt8], status: Product.Status, for id: String, skus: [String], loadedAt: Int64) {
        state.withLock { state in
            guard loadedAt >= state.clearedAt else { return }
            if case .changed(let at)? = state.entries[id], at > loadedAt { return }
            if state.entries.count >= capacity {
                state = State(clearedAt: loadedAt)
            }
            state.entries[id] = .product(json: json, status: status, skus: skus)
            for sku in skus { state.productBySKU[sku] = id }
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
            if case .product(_, _, let skus)? = state.entries[id] {
                for sku in skus { state.productBySKU.removeValue(forKey: sku) }
            }
            state.entries[id] = .changed(at: seq)
        }
    }
}
