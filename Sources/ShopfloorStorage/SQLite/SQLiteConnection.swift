import CSQLite
import Foundation

/// One SQLite database connection and its cache of prepared statements.
///
/// Opened with `SQLITE_OPEN_NOMUTEX`: SQLite does no locking of its own, so exactly one thread may use
/// the connection at a time. ``Writer`` and ``ReaderPool`` are the only owners and enforce that.
public final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// What the writes of the open transaction leave for the code that observes its commit (the event
    /// log keeps the events it appended here, so publishing them needs no read-back). ``Writer``
    /// empties it when a transaction begins and drops the part of a job it rolls back.
    public var transactionNotes: [any Sendable] = []

    /// What the open transaction's writes worked out and may reuse until it ends, by key: the stock
    /// ledger keeps each SKU's levels here, so a batch of a hot SKU's reservations reads them once.
    /// Kept only on a connection that keeps one (``keepTransactionMemo()``: the writer's), which empties it whenever
    /// a transaction begins, commits or rolls back, in whole or to a savepoint; and emptied whenever a
    /// row of a table an entry depends on changes (SQLite's update hook, which rowid tables fire).
    private var memo: [MemoKey: any Sendable] = [:]
    /// Tables whose changes empty the memo, as their names' C strings.
    private var memoTables: [StaticString] = []
    private var keepsMemo = false

    private struct MemoKey: Hashable {
        let namespace: UnsafeRawPointer
        let key: String
    }

    /// A row as column name → value, for queries whose shape is read by name.
    public typealias Row = [String: SQLiteValue]

    /// Process-wide settings, made once before the first connection initialises SQLite.
    private static let configured: Void = { _ = shopfloor_sqlite_disable_memstatus() }()

    public init(path: String, readOnly: Bool) throws(SQLiteError) {
        Self.configured
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            // "Whether or not an error occurs when it is opened, resources associated with the database
            // connection handle should be released by passing it to sqlite3_close()" (sqlite3_open docs).
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SQLiteError(code: status, message: message, sql: nil)
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit {
        if keepsMemo { sqlite3_update_hook(handle, nil, nil) }
        statements.removeAll()
        sqlite3_close(handle)
    }

    func error(_ status: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements without results, such as DDL or pragmas.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard status == SQLITE_OK else {
            throw SQLiteError(code: status, message: message.map { String(cString: $0) } ?? "error", sql: sql)
        }
    }

    /// The cached prepared statement for `sql`, prepared on first use.
    public func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = statements[sql] { return cached }
        let statement = try SQLiteStatement(connection: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs `sql` with `bindings`, returning every row.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> [Row] {
        let statement = try statement(sql)
        return try statement.withBindings(bindings) { () throws(SQLiteError) in
            let names = statement.columnNames
            var rows: [Row] = []
            while try statement.step() {
                var row = Row(minimumCapacity: names.count)
                for (index, name) in names.enumerated() {
                    row[name] = statement.column(index)
                }
                rows.append(row)
            }
            return rows
        }
    }

    /// Runs `sql` with `bindings` and calls `body` with the statement on each row, for queries on a hot
    /// path: columns are read by index, without a dictionary per row.
    public func forEachRow(_ sql: String, _ bindings: [SQLiteValue] = [], _ body: (SQLiteStatement) throws -> Void) throws {
        let statement = try statement(sql)
        var failure: (any Error)?
        try statement.withBindings(bindings) { () throws(SQLiteError) in
            while try statement.step() {
                do { try body(statement) } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
    }

    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try statement(sql)
        return try statement.withBindings(bindings) { () throws(SQLiteError) in
            while try statement.step() {}
            return Int(sqlite3_changes(handle))
        }
    }

    /// The value `memoize` stored under `namespace` and `key` in this transaction, unless something it
    /// depends on changed since.
    public func memo<T: Sendable>(_ namespace: StaticString, _ key: String, as type: T.Type) -> T? {
        memo.isEmpty ? nil : memo[MemoKey(namespace: UnsafeRawPointer(namespace.utf8Start), key: key)] as? T
    }

    /// Keeps `value` until the transaction ends or a row of one of `tables` changes; does nothing on
    /// a connection that does not keep a memo.
    public func memoize(_ value: some Sendable, _ namespace: StaticString, _ key: String, dependsOn tables: [StaticString]) {
        guard keepsMemo else { return }
        for table in tables where !memoTables.contains(where: { $0.utf8Start == table.utf8Start }) { memoTables.append(table) }
        memo[MemoKey(namespace: UnsafeRawPointer(namespace.utf8Start), key: key)] = value
    }

    /// Makes this connection keep a memo (``Writer``, the one owner that empties it at every
    /// transaction's end or rollback), watching row changes through SQLite's update hook.
    func keepTransactionMemo() {
        guard !keepsMemo else { return }
        keepsMemo = true
        sqlite3_update_hook(handle, { context, _, _, table, _ in
            guard let context, let table else { return }
            Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue().rowChanged(in: table)
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Empties the memo (``Writer``, at every transaction's end or rollback).
    func forgetMemo() {
        if !memo.isEmpty { memo.removeAll(keepingCapacity: true) }
    }

    private func rowChanged(in table: UnsafePointer<CChar>) {
        guard !memo.isEmpty else { return }
        for name in memoTables where strcmp(table, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)) == 0 {
            memo.removeAll(keepingCapacity: true)
            return
        }
    }

    /// The rowid of the last successful insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether the connection is inside a transaction.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}

@available(*, unavailable)
extension SQLiteConnection: Sendable {}
