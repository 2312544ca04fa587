import Synchronization

/// Pages of product ids by query, for the searches and lists a storefront repeats all day.
///
/// Any `product.*` event empties it (catalogue changes are rare next to reads), and a page computed
/// before such an event is never stored after it: each store names the generation its read began in.
/// Queries filtered by stock are not kept, since every reservation changes them.
final class SearchCache: Sendable {
    struct Page: Sendable {
        var hits: [ProductHit]
        var next: String?
    }

    private let state = Mutex<(generation: Int, pages: [String: Page])>((0, [:]))
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    var generation: Int { state.withLock { $0.generation } }

    func page(for key: String) -> Page? {
        state.withLock { $0.pages[key] }
    }

    func store(_ page: Page, for key: String, generation: Int) {
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.pages.count >= capacity { state.pages.removeAll(keepingCapacity: true) }
            state.pages[key] = page
        }
    }

    func invalidate(by event: Event) {
        guard event.type.hasPrefix("product.") else { return }
        state.withLock { state in
            state.generation += 1
            state.pages.removeAll(keepingCapacity: true)
        }
    }
}
