public import Foundation

/// A moment in every week, in the shop's time zone: `mon 09:00` (`--replenishment-schedule`).
public struct WeeklySchedule: Sendable, Equatable, CustomStringConvertible {
    /// 1 is Sunday … 7 is Saturday, as the Gregorian calendar counts.
    public var weekday: Int
    public var hour: Int
    public var minute: Int

    static let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public static let mondayMorning = WeeklySchedule(weekday: 2, hour: 9, minute: 0)

    public init(weekday: Int, hour: Int, minute: Int) {
        self.weekday = weekday
        self.hour = hour
        self.minute = minute
    }

    /// Parses `mon 09:00` (a day's first three letters, then `HH:MM`); `nil` for anything else.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let day = Self.days.firstIndex(of: String(parts[0].prefix(3))), parts[0].count >= 3,
              Self.days[day].hasPrefix(parts[0].prefix(3)), let minutes = QuietHours.minutes(String(parts[1])) else { return nil }
        self.init(weekday: day + 1, hour: minutes / 60, minute: minutes % 60)
    }

    public var description: String {
        "\(Self.days[weekday - 1]) \(String(format: "%02d:%02d", hour, minute))"
    }

    /// The first such moment after `instant` in `timeZone`.
    public func next(after instant: Date, in timeZone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let wanted = DateComponents(hour: hour, minute: minute, second: 0, weekday: weekday)
        return calendar.nextDate(after: instant, matching: wanted, matchingPolicy: .nextTime) ?? instant.addingTimeInterval(7 * 86_400)
    }

    /// The local date of `instant` in `timeZone`, `YYYY-MM-DD`: a run's key.
    public static func localDate(_ instant: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
