import Synchronization

/// Pages of product ids by query, for the searches and lists a storefront repeats all day.
///
/// Every catalogue change moves the search index's ``ProductSearchIndex/version`` once its commit is
/// on disk; a page is kept under the version read before it was computed and served only while the
/// index still has that version, so a page that may predate a change is never served after it.
/// Queries filtered by stock are not kept, since every reservation changes them.
final class SearchCache: Sendable {
    struct Page: Sendable {
        var hits: [ProductHit]
        var next: String?
    }

    private let state = Mutex<(version: Int, pages: [String: Page])>((0, [:]))
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func page(for key: String, version: Int) -> Page? {
        state.withLock { $0.version == version ? $0.pages[key] : nil }
    }

    func store(_ page: Page, for key: String, version: Int) {
        state.withLock { state in
            if version > state.version {
                state.version = version
                state.pages.removeAll(keepingCapacity: true)
            }
            guard state.version == version else { return }
            if state.pages.count >= capacity { state.pages.removeAll(keepingCapacity: true) }
            state.pages[key] = page
        }
    }
}
