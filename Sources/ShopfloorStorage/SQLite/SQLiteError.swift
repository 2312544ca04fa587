/// A failed SQLite call: the extended result code, SQLite's message and the SQL it ran.
///
/// Bound values are never part of the text, so errors can be logged without leaking data.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The extended result code (`sqlite3_extended_errcode`).
    public let code: Int32
    public let message: String
    public let sql: String?

    /// The primary result code, such as `SQLITE_CONSTRAINT` (19) for `SQLITE_CONSTRAINT_UNIQUE`.
    public var primaryCode: Int32 { code & 0xFF }

    public var description: String {
        "SQLite error \(code): \(message)" + (sql.map { " — in: \($0)" } ?? "")
    }
}
