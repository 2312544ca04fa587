/// The pace of an outbox's sender: a pass whenever a commit leaves a note of interest (something was
/// queued) or an attempt ends, and every tick for retries that have come due. Each pass claims what
/// is due and free to send, and sends each claim in a child task.
///
/// The commit observer looks only at the transaction's notes, never at the store, so every commit on
/// the hot path pays one scan of a short array.
final class DeliveryLoop: Sendable {
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    /// Wakes on commits whose notes contain one for which `isOfInterest` holds.
    init(writer: any StoreWriter, isOfInterest: @escaping @Sendable (Any) -> Bool) {
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let wakeup = wakeup
        writer.observeCommits { transaction in
            guard transaction.transactionNotes.contains(where: isOfInterest) else { return nil }
            return { wakeup.yield() }
        }
    }

    /// Runs passes until cancelled; in-flight sends finish before it returns.
    func run<Claim: Sendable>(tick: Duration, claim: @escaping @Sendable () -> [Claim], send: @escaping @Sendable (Claim) async -> Void) async {
        await withDiscardingTaskGroup { group in
            let wakeup = wakeup
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: tick)
                    wakeup.yield()
                }
            }
            wakeup.yield()
            for await _ in wakeups {
                for item in claim() {
                    group.addTask {
                        await send(item)
                        wakeup.yield()
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Claims and sends until nothing is due, waiting for each send: the step tests take after
    /// moving their clock.
    static func drain<Claim: Sendable>(claim: () -> [Claim], send: @escaping @Sendable (Claim) async -> Void) async {
        while true {
            let due = claim()
            if due.isEmpty { return }
            await withDiscardingTaskGroup { group in
                for item in due {
                    group.addTask { await send(item) }
                }
            }
        }
    }
}
