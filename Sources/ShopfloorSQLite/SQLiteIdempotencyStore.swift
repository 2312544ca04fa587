import ShopfloorDomain
import ShopfloorStorage

/// Stored answers in table `idempotency_keys`, keyed by (scope, key).
struct SQLiteIdempotencyStore: IdempotencyStore {
    let readers: ReaderPool

    func answer(scope: String, key: String) throws -> [UInt8]? {
        try readers.read { connection in
            try connection.query("SELECT key, body FROM idempotency_keys WHERE scope = ? AND key = ?", [.text(scope), .text(key)]).first.map {
                try StoredRow($0, table: "idempotency_keys", keyColumn: "key").blob("body")
            }
        }
    }

    func save(_ answer: [UInt8], status: Int, scope: String, key: String, at: String, in transaction: any WriteTransaction) throws {
        do {
            try transaction.connection.run(
                "INSERT INTO idempotency_keys (key, scope, status, body, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(key), .text(scope), .integer(Int64(status)), .blob(answer), .text(at)])
        } catch let error where error.isUniqueViolation {
            throw StoreError.duplicate(constraint: "idempotency_keys.key")
        }
    }
}
