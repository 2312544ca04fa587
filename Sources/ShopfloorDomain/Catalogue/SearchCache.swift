import Synchronization

/// Pages of product ids by query, for the searches and lists a storefront repeats all day.
///
/// Every catalogue change moves the search index's ``ProductSearchIndex/version`` once its commit is
/// on disk; a page is kept under the version read before it was computed and served only while the
/// index still has that version, so a page that may predate a change is never served after it.
/// Queries filtered by stock are not kept, since every reservation changes them. Past `capacity`
/// pages, the oldest goes.
final class SearchCache: Sendable {
    struct Page: Sendable {
        var hits: [ProductHit]
        var next: String?
    }

    private struct State {
        var version = 0
        var pages: [String: Page] = [:]
        /// Keys in the order stored, oldest from `head`: the first to go once the cache is full.
        var order: [String] = []
        var head = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
        // At full size from the start: growing rehashes every key under the lock.
        state.withLock { $0.pages.reserveCapacity(capacity + 1) }
    }

    func page(for key: String, version: Int) -> Page? {
        state.withLock { $0.version == version ? $0.pages[key] : nil }
    }

    /// Full, the oldest page goes, one for one: emptying ten thousand pages at once held every
    /// search behind this lock for as long as their release took.
    func store(_ page: Page, for key: String, version: Int) {
        let stale: State? = state.withLock { state in
            var stale: State?
            if version > state.version {
                stale = state
                state = State(version: version, pages: Dictionary(minimumCapacity: capacity + 1))
            }
            guard state.version == version, state.pages.updateValue(page, forKey: key) == nil else { return stale }
            state.order.append(key)
            if state.pages.count > capacity {
                state.pages.removeValue(forKey: state.order[state.head])
                state.head += 1
                if state.head * 2 > state.order.count {
                    state.order.removeFirst(state.head)
                    state.head = 0
                }
            }
            return stale
        }
        // The pages of an older version are released here, after the lock, not under it.
        _ = stale
    }
}
