/// Serialises async work per key: operations on one cart run one after another, while different
/// carts proceed in parallel. Waiters are served in arrival order.
actor KeyedLock {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `body` once every earlier holder of `key` has finished.
    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        if waiting[key] != nil {
            await withCheckedContinuation { waiting[key]!.append($0) }
        } else {
            waiting[key] = []
        }
        defer { unlock(key) }
        return try await body()
    }

    private func unlock(_ key: String) {
        guard var queue = waiting[key], !queue.isEmpty else {
            waiting[key] = nil
            return
        }
        let next = queue.removeFirst()
        waiting[key] = queue
        next.resume()
    }
}
