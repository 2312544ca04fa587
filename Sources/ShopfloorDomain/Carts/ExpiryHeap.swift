/// Deadlines of carts, soonest first: the one timer structure behind reservation expiry.
///
/// A cart written again gets a new entry; stale entries are not removed but checked against the cart
/// when they come due (lazy deletion), so every operation stays O(log n).
struct ExpiryHeap {
    struct Entry: Equatable {
        var at: Int64
        var cart: String
    }

    private var items: [Entry] = []

    var count: Int { items.count }

    mutating func push(_ entry: Entry) {
        items.append(entry)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].at < items[parent].at else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every entry due at or before `now`, soonest first.
    mutating func popDue(now: Int64) -> [Entry] {
        var due: [Entry] = []
        while let first = items.first, first.at <= now {
            due.append(first)
            let last = items.removeLast()
            guard !items.isEmpty else { break }
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].at < items[smallest].at { smallest = left }
                if right < items.count && items[right].at < items[smallest].at { smallest = right }
                guard smallest != parent else { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return due
    }
}
