public import Foundation

/// Where a visitor is on the way to an order (seed 004's segments), worked out from what they do.
public enum ShopperStage: String, Sendable, Codable, CaseIterable {
    /// Viewing, with no cart or an empty one.
    case browsing
    /// A cart with lines, still active.
    case considering
    /// A cart with lines and either a checkout that has stalled or a tab left in the background.
    case hesitating
}

/// The thresholds of the stage rules, from the shop's settings (`PATCH /v1/settings`).
public struct StageRules: Sendable, Equatable {
    /// Seconds a started checkout may go without activity before the shopper counts as hesitating.
    public var hesitatingAfter: Int
    /// Seconds a shopper with a full cart may keep every tab hidden before counting as hesitating.
    public var hiddenHesitatingAfter: Int

    public init(hesitatingAfter: Int, hiddenHesitatingAfter: Int) {
        self.hesitatingAfter = hesitatingAfter
        self.hiddenHesitatingAfter = hiddenHesitatingAfter
    }

    /// The stage of a visitor whose cart has `lines` lines, at checkout step `step` (`cart` or none
    /// means not started), last active at `lastActive`, hidden since `hiddenSince` (`nil` when visible).
    public func stage(lines: Int, step: String?, lastActive: Date, hiddenSince: Date?, now: Date) -> ShopperStage {
        guard lines > 0 else { return .browsing }
        if let step, step != "cart", now.timeIntervalSince(lastActive) >= Double(hesitatingAfter) { return .hesitating }
        if let hiddenSince, now.timeIntervalSince(hiddenSince) >= Double(hiddenHesitatingAfter) { return .hesitating }
        return .considering
    }
}
