import ShopfloorDomain
import ShopfloorStorage

/// Staff sessions in `staff_sessions` (migration 25), by the hash of their token.
struct SQLiteStaffSessionStore: StaffSessionStore {
    let readers: ReaderPool

    func session(tokenHash: [UInt8]) throws -> StaffSession? {
        try readers.read { connection in
            try connection.query("SELECT key_id, csrf_token, created_at, expires_at_ms FROM staff_sessions WHERE token_hash = ?",
                                 [.blob(tokenHash)]).first.map { values in
                let row = StoredRow(values, table: "staff_sessions", keyColumn: "key_id")
                return StaffSession(tokenHash: tokenHash, keyID: try row.id("key_id", as: APIKeyID.self), csrfToken: try row.text("csrf_token"),
                                    createdAt: try row.text("created_at"), expiresAtMilliseconds: try row.int64("expires_at_ms"))
            }
        }
    }

    func insert(_ session: StaffSession, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO staff_sessions (token_hash, key_id, csrf_token, created_at, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
            [.blob(session.tokenHash), .text(session.keyID.rawValue), .text(session.csrfToken), .text(session.createdAt),
             .integer(session.expiresAtMilliseconds)])
    }

    func extend(tokenHash: [UInt8], expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE staff_sessions SET expires_at_ms = max(expires_at_ms, ?) WHERE token_hash = ?",
                                       [.integer(expiresAtMilliseconds), .blob(tokenHash)])
    }

    func delete(tokenHash: [UInt8], in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM staff_sessions WHERE token_hash = ?", [.blob(tokenHash)])
    }

    func deleteExpired(before milliseconds: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM staff_sessions WHERE expires_at_ms < ?", [.integer(milliseconds)])
    }
}
