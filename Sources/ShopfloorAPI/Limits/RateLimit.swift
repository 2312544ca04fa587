/// A token bucket's settings: `rate` requests a second on average, at most `burst` at once. Written
/// `30/s:120` (30 a second, 120 at once), `20/min:10`, or `off`.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Tokens added a second.
    public let rate: Double
    /// The bucket's size: requests a quiet client may send at once.
    public let burst: Int
    /// How the rate was written, for errors and headers.
    private let perUnit: (count: Int, unit: String)

    public init(count: Int, per unit: String, burst: Int) {
        let seconds: Double = unit == "min" ? 60 : unit == "h" ? 3600 : 1
        rate = Double(count) / seconds
        self.burst = burst
        perUnit = (count, unit)
    }

    /// Parses `N/s`, `N/min` or `N/h`, then optionally `:BURST` (the count when left out); `nil` for
    /// anything else (`off` is the configuration's to read).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let rate = parts[0].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard rate.count == 2, let count = Int(rate[0]), (1...1_000_000).contains(count), ["s", "min", "h"].contains(rate[1]) else { return nil }
        var burst = count
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (1...1_000_000).contains(parsed) else { return nil }
            burst = parsed
        }
        self.init(count: count, per: String(rate[1]), burst: burst)
    }

    /// Seconds an empty bucket takes to fill again: the window of the `RateLimit-Policy` header.
    var window: Int { max(1, Int((Double(burst) / rate).rounded(.up))) }

    public var description: String { "\(perUnit.count)/\(perUnit.unit):\(burst)" }

    public static func == (lhs: RateLimit, rhs: RateLimit) -> Bool {
        lhs.rate == rhs.rate && lhs.burst == rhs.burst
    }
}
