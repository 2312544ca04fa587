import CSQLite

/// A prepared statement, finalized in `deinit`. Owned by the ``SQLiteConnection`` that prepared it
/// and used only while that connection is held.
public final class SQLiteStatement {
    let handle: OpaquePointer
    let sql: String
    /// The result columns' names, read once: a row keyed by name would otherwise make a `String` of
    /// every column name again for every row.
    let columnNames: [String]
    private unowned let connection: SQLiteConnection

    init(connection: SQLiteConnection, sql: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let status = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard status == SQLITE_OK, let handle else { throw connection.error(status, sql: sql) }
        self.handle = handle
        self.sql = sql
        self.connection = connection
        columnNames = (0..<sqlite3_column_count(handle)).map { String(cString: sqlite3_column_name(handle, $0)) }
    }

    deinit { sqlite3_finalize(handle) }

    /// Runs `body` with `values` bound to parameters 1, 2, ...; every step of this use of the statement
    /// happens inside `body`.
    ///
    /// Text and blobs are bound in place (`SQLITE_STATIC`) rather than copied (`SQLITE_TRANSIENT`,
    /// a `malloc` and a copy per value, since the system SQLite has no lookaside memory): their bytes
    /// stay valid while `body` runs, and the statement is reset and its bindings cleared before this
    /// returns, so SQLite never keeps a pointer past that.
    func withBindings<R>(_ values: [SQLiteValue], _ body: () throws(SQLiteError) -> R) throws(SQLiteError) -> R {
        sqlite3_reset(handle)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        return try bind(values, from: 0) { () -> Result<R, SQLiteError> in
            do throws(SQLiteError) { return .success(try body()) } catch { return .failure(error) }
        }.get()
    }

    /// Binds `values[offset...]`, each inside the scope that keeps its bytes alive, then runs `body`.
    /// Results, not throws, because `withUTF8` and `withUnsafeBytes` only rethrow untyped errors.
    private func bind<R>(_ values: [SQLiteValue], from offset: Int, _ body: () -> Result<R, SQLiteError>) -> Result<R, SQLiteError> {
        guard offset < values.count else { return body() }
        let index = Int32(offset + 1)
        func next(_ status: Int32) -> Result<R, SQLiteError> {
            status == SQLITE_OK ? bind(values, from: offset + 1, body) : .failure(connection.error(status, sql: sql))
        }
        switch values[offset] {
        case .null: return next(sqlite3_bind_null(handle, index))
        case .integer(let number): return next(sqlite3_bind_int64(handle, index, number))
        case .real(let number): return next(sqlite3_bind_double(handle, index, number))
        case .text(var text):
            return text.withUTF8 { bytes in
                // An empty buffer may have no address, and a NULL pointer would bind NULL, not "".
                guard let base = bytes.baseAddress else { return next(sqlite3_bind_text(handle, index, "", 0, shopfloor_sqlite_transient())) }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { next(sqlite3_bind_text(handle, index, $0, Int32(bytes.count), nil)) }
            }
        case .blob(let bytes):
            return bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return next(sqlite3_bind_zeroblob(handle, index, 0)) }
                return next(sqlite3_bind_blob(handle, index, base, Int32(raw.count), nil))
            }
        }
    }

    /// Advances to the next row; `false` when done.
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let status: throw connection.error(status, sql: sql)
        }
    }

    /// Column `index` of the current row as an integer (0 for NULL, as SQLite converts).
    public func int(_ index: Int) -> Int { Int(sqlite3_column_int64(handle, Int32(index))) }

    /// Whether column `index` of the current row is NULL.
    public func isNull(_ index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    /// Column `index` of the current row as text ("" for NULL).
    public func text(_ index: Int) -> String {
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        guard count > 0, let text = sqlite3_column_text(handle, Int32(index)) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// The value of column `index` in the current row.
    public func column(_ index: Int) -> SQLiteValue {
        let column = Int32(index)
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let text = sqlite3_column_text(handle, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}

@available(*, unavailable)
extension SQLiteStatement: Sendable {}
