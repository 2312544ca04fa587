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
