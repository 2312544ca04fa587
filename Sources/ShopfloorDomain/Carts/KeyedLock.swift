import Synchronization

/// Serialises async work per key: operations on one cart run one after another, while different
/// carts proceed in parallel. Waiters are served in arrival order.
///
/// A mutex rather than an actor: taking a free key and handing it on cost no hop to another
/// executor, which every cart write would otherwise pay twice.
final class KeyedLock: Sendable {
    /// For each held key, the continuations of those waiting for it, first come first.
    private let waiting = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    /// Runs `body` once every earlier holder of `key` has finished.
    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let taken = waiting.withLock { waiting in
            guard waiting[key] == nil else { return false }
            waiting[key] = []
            return true
        }
        if !taken {
            await withCheckedContinuation { continuation in
                // Released meanwhile: take it now rather than wait for a hand-over that will not come.
                let free = waiting.withLock { waiting in
                    guard waiting[key] != nil else {
                        waiting[key] = []
                        return true
                    }
                    waiting[key]!.append(continuation)
                    return false
                }
                if free { continuation.resume() }
            }
        }
        defer { unlock(key) }
        return try await body()
    }

    /// Hands the key to the first waiter, or frees it.
    private func unlock(_ key: String) {
        let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard let queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            waiting[key] = Array(queue.dropFirst())
            return queue[0]
        }
        next?.resume()
    }

    // MARK: Test hooks

    /// How many wait for `key`, or nil while no one holds it. For tests, which cannot otherwise know
    /// that a waiter has queued and so cannot start the next one in a known order without sleeping.
    package func waiterCount(for key: String) -> Int? {
        waiting.withLock { $0[key]?.count }
    }

    /// Keys held now: 0 once every operation has finished, so the table does not grow with the number
    /// of carts ever written. For tests.
    package var heldKeyCount: Int {
        waiting.withLock { $0.count }
    }
}
