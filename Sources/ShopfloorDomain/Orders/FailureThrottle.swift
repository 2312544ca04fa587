import Synchronization

/// At most `limit` failures per caller in any `window`: a caller past it is told how long until its
/// oldest counted failure leaves the window. Kept in memory, by the injected clock: a restart forgets
/// it, which costs an attacker a restart of someone else's server.
public final class FailureThrottle: Sendable {
    private let limit: Int
    private let window: Int64
    private let clock: any WallClock
    /// Failure times (ms) by caller, oldest first, only those still in the window.
    private let failures = Mutex<[String: [Int64]]>([:])

    public init(limit: Int, windowMilliseconds: Int64, clock: any WallClock) {
        self.limit = limit
        window = windowMilliseconds
        self.clock = clock
    }

    /// Seconds until `caller` may try again, or `nil` when it may now.
    public func wait(for caller: String) -> Int? {
        let now = clock.milliseconds
        return failures.withLock { failures in
            guard let times = current(caller, now: now, in: &failures), times.count >= limit else { return nil }
            return Int((times[times.count - limit] + window - now + 999) / 1000)
        }
    }

    public func recordFailure(of caller: String) {
        let now = clock.milliseconds
        failures.withLock { failures in
            var times = current(caller, now: now, in: &failures) ?? []
            times.append(now)
            failures[caller] = Array(times.suffix(limit))
            // Callers whose failures all left the window go, so the table stays as small as the attacks.
            if failures.count > 10_000 { failures = failures.filter { $0.value.last.map { $0 > now - window } ?? false } }
        }
    }

    private func current(_ caller: String, now: Int64, in failures: inout [String: [Int64]]) -> [Int64]? {
        guard let times = failures[caller] else { return nil }
        let kept = times.filter { $0 > now - window }
        failures[caller] = kept.isEmpty ? nil : kept
        return kept.isEmpty ? nil : kept
    }
}
