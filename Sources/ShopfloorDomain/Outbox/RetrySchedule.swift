/// When a temporarily failed message or webhook delivery is tried again (API.md: email, SMS and push
/// after 10 s, 1 m, 5 m, 30 m, 2 h, 6 h, 12 h and 24 h; webhooks after 5 s, 5 m, 30 m, 2 h, 5 h, 10 h,
/// 14 h, 20 h and 24 h; then failed). Each wait is stretched by up to a tenth at
/// random, so messages that failed together (a mail server down for a minute) do not all come back in
/// the same instant.
public struct RetrySchedule: Sendable {
    public var delays: [Duration]
    /// The largest share of a delay added at random.
    public var jitter: Double

    public init(delays: [Duration], jitter: Double = 0.1) {
        self.delays = delays
        self.jitter = jitter
    }

    /// The schedule for email, SMS and push.
    public static let messages = RetrySchedule(delays: [
        .seconds(10), .seconds(60), .seconds(300), .seconds(1_800), .seconds(7_200), .seconds(21_600), .seconds(43_200), .seconds(86_400),
    ])

    /// The schedule for integrator webhooks, Standard Webhooks' own.
    public static let webhooks = RetrySchedule(delays: [
        .seconds(5), .seconds(300), .seconds(1_800), .seconds(7_200), .seconds(18_000), .seconds(36_000), .seconds(50_400), .seconds(72_000),
        .seconds(86_400),
    ])

    /// The wait before the retry that follows `failures` failed attempts (1 for the first failure), at
    /// least `floor` (a receiver's `Retry-After`); `nil` when the schedule is used up.
    public func delay(afterFailures failures: Int, atLeast floor: Duration? = nil,
                      random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Duration? {
        guard failures >= 1, failures <= delays.count else { return nil }
        let base = delays[failures - 1]
        let stretched = base * (1 + random(0...jitter))
        guard let floor else { return stretched }
        return max(stretched, floor)
    }
}
