import ShopfloorDomain
import ShopfloorStorage

/// Sign-in codes in `sign_in_codes` (one per address, the latest) and sessions in `customer_sessions`,
/// both by hash only (migration 15).
struct SQLiteShopperAuthStore: ShopperAuthStore {
    let readers: ReaderPool

    func code(for email: String, in transaction: any WriteTransaction) throws -> SignInCode? {
        try transaction.connection.query("SELECT * FROM sign_in_codes WHERE email = ?", [.text(email)]).first.map { values in
            let row = StoredRow(values, table: "sign_in_codes", keyColumn: "email")
            return SignInCode(
                email: email, hash: try row.blob("code_hash"), expiresAtMilliseconds: try row.int64("expires_at_ms"), attempts: try row.int("attempts"),
                used: try row.bool("used"), windowStartMilliseconds: try row.int64("window_start_ms"), issued: try row.int("issued"))
        }
    }

    func saveCode(_ code: SignInCode, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT OR REPLACE INTO sign_in_codes (email, code_hash, expires_at_ms, attempts, used, window_start_ms, issued)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(code.email), .blob(code.hash), .integer(code.expiresAtMilliseconds), .integer(Int64(code.attempts)), .integer(code.used ? 1 : 0),
             .integer(code.windowStartMilliseconds), .integer(Int64(code.issued))])
    }

    func session(tokenHash: [UInt8]) throws -> ShopperSession? {
        try readers.read { connection in
            try connection.query("SELECT * FROM customer_sessions WHERE token_hash = ?", [.blob(tokenHash)]).first.map { values in
                let row = StoredRow(values, table: "customer_sessions", keyColumn: "customer_id")
                return ShopperSession(tokenHash: tokenHash, customerID: try row.id("customer_id", as: CustomerID.self),
                                      createdAt: try row.text("created_at"), expiresAtMilliseconds: try row.int64("expires_at_ms"))
            }
        }
    }

    func insertSession(_ session: ShopperSession, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO customer_sessions (token_hash, customer_id, created_at, expires_at_ms) VALUES (?, ?, ?, ?)",
            [.blob(session.tokenHash), .text(session.customerID.rawValue), .text(session.createdAt), .integer(session.expiresAtMilliseconds)])
    }

    func extendSession(tokenHash: [UInt8], expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE customer_sessions SET expires_at_ms = max(expires_at_ms, ?) WHERE token_hash = ?",
                                       [.integer(expiresAtMilliseconds), .blob(tokenHash)])
    }

    func deleteSession(tokenHash: [UInt8], in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM customer_sessions WHERE token_hash = ?", [.blob(tokenHash)])
    }

    func deleteSessions(of customer: CustomerID, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("DELETE FROM customer_sessions WHERE customer_id = ?", [.text(customer.rawValue)])
    }
}
