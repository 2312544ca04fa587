public import Foundation

/// RFC 3339 UTC timestamps with second precision, as stored and as sent (API.md).
public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ`, written by hand: Foundation's ISO 8601 format style costs more than the
    /// rest of a cart write's bookkeeping, and every write stamps a time or two.
    public static func string(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (day, clock) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
        let shifted = day + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        // Twenty bytes, written straight into the string's storage: one allocation, no array between.
        return String(unsafeUninitializedCapacity: 20) { bytes in
            var index = 0
            func digits(_ value: Int64, _ count: Int) {
                var rest = value
                for offset in stride(from: count - 1, through: 0, by: -1) {
                    bytes[index + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                index += count
            }
            func byte(_ ascii: Unicode.Scalar) {
                bytes[index] = UInt8(ascii: ascii)
                index += 1
            }
            digits(year, 4)
            byte("-")
            digits(month, 2)
            byte("-")
            digits(dayOfMonth, 2)
            byte("T")
            digits(clock / 3600, 2)
            byte(":")
            digits(clock / 60 % 60, 2)
            byte(":")
            digits(clock % 60, 2)
            byte("Z")
            return index
        }
    }

    /// Parses an RFC 3339 `date-time` (§5.6): `T` or `t`, optional fractional seconds, `Z` or a
    /// numeric offset; `nil` for anything else, or for a day that is not in the calendar.
    public static func date(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, in allowed: String) -> Bool { index < bytes.count && allowed.utf8.contains(bytes[index]) }
        guard let year = number(0, 4), byte(4, in: "-"), let month = number(5, 2), byte(7, in: "-"), let day = number(8, 2),
              byte(10, in: "Tt"), let hour = number(11, 2), byte(13, in: ":"), let minute = number(14, 2), byte(16, in: ":"),
              let second = number(17, 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second <= 60
        else { return nil }
        var index = 19
        var fraction = 0.0
        if byte(index, in: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while let digit = number(index, 1) {
                fraction += Double(digit) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if byte(index, in: "Zz") {
            index += 1
        } else if byte(index, in: "+-"), let offsetHour = number(index + 1, 2), byte(index + 3, in: ":"), let offsetMinute = number(index + 4, 2),
                  offsetHour < 24, offsetMinute < 60 {
            offset = (offsetHour * 3600 + offsetMinute * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        // A leap second (:60) counts as the last instant of its minute.
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: Double(seconds) + (second == 60 ? 0.999 : fraction))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a civil date (H. Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Timestamp {
    static func isValid(_ text: String) -> Bool { date(text) != nil }

    /// The same instant in the stored form (UTC, seconds), so stored times compare as text.
    static func normalised(_ text: String) -> String? { date(text).map(string) }
}
