public import Foundation

/// RFC 3339 UTC timestamps with second precision, as stored and as sent (API.md).
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    public static var now: String { string(Date()) }

    public static func date(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }
}

extension Timestamp {
    static func isValid(_ text: String) -> Bool { date(text) != nil }

    /// The same instant in the stored form (UTC, seconds), so stored times compare as text.
    static func normalised(_ text: String) -> String? { date(text).map(string) }
}
