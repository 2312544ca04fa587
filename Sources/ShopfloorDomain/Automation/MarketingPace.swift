public import Foundation

/// When a marketing message may go (API.md, Automation, Caps and quiet hours): at most one email per
/// `emailCapHours`, one SMS per `smsCapHours` and one push per `pushCapHours` per customer, across
/// every flow and campaign, and no SMS or push during quiet hours in the customer's time zone (the
/// shop's when the customer has none). Each channel has its own cap, so a cascade of push, then SMS,
/// then email reaches one shopper within a day. A message that may not go now waits for the first
/// moment it may; it is never dropped for being early.
public struct MarketingPace: Sendable, Equatable {
    public var emailCapHours: Int
    public var smsCapHours: Int
    public var pushCapHours: Int
    public var quietHours: QuietHours?

    public init(emailCapHours: Int, smsCapHours: Int, pushCapHours: Int, quietHours: QuietHours?) {
        self.emailCapHours = emailCapHours
        self.smsCapHours = smsCapHours
        self.pushCapHours = pushCapHours
        self.quietHours = quietHours
    }

    /// Why a message waits.
    public enum Hold: String, Sendable {
        case capped
        case quietHours = "quiet_hours"
    }

    /// The first moment at or after `now` a marketing message on `channel` may go, given when the
    /// customer's last marketing message on that channel went (or is due to go), and why it waits.
    public func earliest(_ channel: MessageChannel, now: Date, lastMarketing: Date?, timeZone: TimeZone) -> (at: Date, hold: Hold?) {
        var at = now
        var hold: Hold?
        let hours = switch channel {
        case .email: emailCapHours
        case .sms: smsCapHours
        case .push: pushCapHours
        }
        if let last = lastMarketing, hours > 0 {
            let free = last.addingTimeInterval(Double(hours) * 3600)
            if free > at {
                at = free
                hold = .capped
            }
        }
        if channel != .email, let quiet = quietHours, let end = quiet.end(ofQuietAt: at, in: timeZone) {
            at = end
            hold = hold ?? .quietHours
        }
        return (at, hold)
    }
}

/// Hours of the day, on a 24-hour clock, in which SMS and push stay quiet: from `start` to `end`,
/// over midnight when `start` is later than `end` (21:00 to 08:00).
public struct QuietHours: Codable, Sendable, Equatable {
    /// `HH:MM`.
    public var start: String
    public var end: String

    public init(start: String, end: String) {
        self.start = start
        self.end = end
    }

    public static let standard = QuietHours(start: "21:00", end: "08:00")

    /// Minutes after midnight of `HH:MM`, or `nil` if it is not a time of day.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }), let hour = Int(parts[0]), let minute = Int(parts[1]),
              hour < 24, minute < 60 else { return nil }
        return hour * 60 + minute
    }

    /// When the quiet hours around `instant` end, in `timeZone`; `nil` when `instant` is not in them.
    public func end(ofQuietAt instant: Date, in timeZone: TimeZone) -> Date? {
        guard let from = Self.minutes(start), let to = Self.minutes(end), from != to else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: instant)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let quiet = from < to ? (minute >= from && minute < to) : (minute >= from || minute < to)
        guard quiet else { return nil }
        let day = calendar.startOfDay(for: instant)
        // Past midnight already (or a window within one day): it ends today; before midnight, tomorrow.
        let endsTomorrow = from > to && minute >= from
        guard let endDay = endsTomorrow ? calendar.date(byAdding: .day, value: 1, to: day) : day else { return nil }
        return calendar.date(bySettingHour: to / 60, minute: to % 60, second: 0, of: endDay)
    }
}
