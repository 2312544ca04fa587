/// One caller's bucket: it holds up to `burst` tokens, gains `rate` a second, and each request takes
/// one. A value with no clock of its own, so its arithmetic is tested apart from time and locks.
struct TokenBucket: Sendable {
    private(set) var tokens: Double
    /// When `tokens` was last brought up to date, in milliseconds of the injected clock.
    private var updated: Int64

    /// A full bucket, as a caller that has not been seen for a while has.
    init(limit: RateLimit, now: Int64) {
        tokens = Double(limit.burst)
        updated = now
    }

    /// Takes a token: `nil` when there was one, else the whole seconds until there will be.
    mutating func take(_ limit: RateLimit, now: Int64) -> Int? {
        refill(limit, now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return max(1, Int(((1 - tokens) / limit.rate).rounded(.up)))
    }

    /// Whether the bucket is full again by `now`, and so no different from one never made.
    func isFull(_ limit: RateLimit, now: Int64) -> Bool {
        tokens + Double(max(0, now - updated)) / 1000 * limit.rate >= Double(limit.burst)
    }

    private mutating func refill(_ limit: RateLimit, now: Int64) {
        // A clock set back adds nothing; it does not take tokens away either.
        let elapsed = max(0, now - updated)
        tokens = min(Double(limit.burst), tokens + Double(elapsed) / 1000 * limit.rate)
        updated = max(updated, now)
    }
}
