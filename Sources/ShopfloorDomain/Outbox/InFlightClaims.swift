import Synchronization

/// What an outbox's sender is sending now, by lane (a channel), so a pass neither starts an item twice
/// nor overfills a lane, and neither does a pass whose read of the store an attempt overtook.
///
/// That race is real: a pass reads the due items from a reader, then claims them. An attempt that
/// finishes meanwhile has recorded itself (its item settled, or due later) and left the in-flight set,
/// yet the pass's read may predate that record and still show the item due: claiming it would send it
/// a second time. So every item finished since the current pass began is kept until the next pass
/// begins, and not claimed in this one. Passes run one after another (the delivery loop, or a test's
/// drain), which is what makes "since the pass began" well defined.
final class InFlightClaims<ID: Hashable & Sendable, Lane: Hashable & Sendable>: Sendable {
    private let state = Mutex<(sending: [Lane: Set<ID>], finishedThisPass: Set<ID>)>(([:], []))

    /// Starts a pass, before its read of the store.
    func beginPass() {
        state.withLock { $0.finishedThisPass.removeAll(keepingCapacity: true) }
    }

    /// Items in flight on `lane`.
    func count(_ lane: Lane) -> Int {
        state.withLock { $0.sending[lane]?.count ?? 0 }
    }

    func contains(_ id: ID) -> Bool {
        state.withLock { state in state.sending.values.contains { $0.contains(id) } }
    }

    /// Marks as in flight those of `candidates` that are neither in flight nor finished during this
    /// pass, up to `limit` on the lane; returns them.
    func claim<Item: Sendable>(_ candidates: [Item], lane: Lane, limit: Int, id: (Item) -> ID) -> [Item] {
        state.withLock { state in
            var sending = state.sending[lane, default: []]
            var claimed: [Item] = []
            for item in candidates where sending.count < limit {
                let key = id(item)
                guard !sending.contains(key), !state.finishedThisPass.contains(key) else { continue }
                sending.insert(key)
                claimed.append(item)
            }
            state.sending[lane] = sending
            return claimed
        }
    }

    /// The item's attempt is recorded: it leaves the lane, and this pass will not claim it again.
    func finish(_ id: ID, lane: Lane) {
        state.withLock { state in
            state.sending[lane]?.remove(id)
            state.finishedThisPass.insert(id)
        }
    }
}
