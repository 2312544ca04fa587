public import Foundation

/// When a customer will run out of something they buy again and again (API.md, Automation,
/// Replenishment; seed 001), from their own purchases of it, leaning on the product's interval while
/// their history is short.
///
/// With purchases on days t₁ < … < tₙ (several on one day count once, their quantities added) the
/// gaps are gᵢ = tᵢ₊₁ − tᵢ and m is their median. With the product's interval d (days) the customer's
/// interval is the mean of d, counted `priorWeight` times, and the n − 1 gaps, each at m:
///
///     interval = (k·d + (n − 1)·m) / (k + n − 1),   k = priorWeight = 2
///
/// so two purchases 30 days apart with d = 60 give (2·60 + 30) / 3 = 50 days, and ten purchases a
/// fortnight apart give (120 + 9·14) / 11 ≈ 22. Without d the interval is m; with one purchase it is
/// d (no d: no interval, nothing to remind of). The median keeps one odd gap (a holiday) from pulling
/// the interval; the prior keeps one short pair from making it a habit. The item is due at tₙ +
/// interval, and the quantity proposed is the median quantity per purchase day.
public struct ReplenishmentPlan: Sendable, Equatable {
    public var intervalDays: Double
    public var quantity: Int
    public var lastPurchase: Date
    public var due: Date

    /// How many purchases the product's interval counts as.
    public static let priorWeight = 2.0

    /// One purchase: when, and how many.
    public struct Purchase: Sendable, Equatable {
        public var at: Date
        public var quantity: Int

        public init(at: Date, quantity: Int) {
            self.at = at
            self.quantity = quantity
        }
    }

    /// The plan for one customer and SKU, or `nil` when there is no interval to go by.
    public static func plan(_ purchases: [Purchase], productIntervalDays: Int?) -> ReplenishmentPlan? {
        // One entry per purchase day, quantities added.
        var byDay: [Int: (at: Date, quantity: Int)] = [:]
        for purchase in purchases {
            let day = Int((purchase.at.timeIntervalSince1970 / 86_400).rounded(.down))
            let known = byDay[day]
            byDay[day] = (max(known?.at ?? purchase.at, purchase.at), (known?.quantity ?? 0) + purchase.quantity)
        }
        let days = byDay.keys.sorted()
        guard let lastDay = days.last, let last = byDay[lastDay] else { return nil }
        let gaps = zip(days, days.dropFirst()).map { Double($1 - $0) }
        let prior = productIntervalDays.map(Double.init)
        let interval: Double
        if let median = median(gaps) {
            interval = prior.map { (priorWeight * $0 + Double(gaps.count) * median) / (priorWeight + Double(gaps.count)) } ?? median
        } else if let prior {
            interval = prior
        } else {
            return nil
        }
        guard interval >= 1 else { return nil }
        let quantity = max(1, Int(median(days.map { Double(byDay[$0]!.quantity) })!.rounded()))
        return ReplenishmentPlan(intervalDays: interval, quantity: quantity, lastPurchase: last.at,
                                 due: last.at.addingTimeInterval(interval * 86_400))
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
