import ShopfloorDomain
import ShopfloorStorage

/// Stored answers in table `idempotency_keys`, keyed by (scope, key).
struct SQLiteIdempotencyStore: IdempotencyStore {
    let readers: ReaderPool

    func answer(scope: String, key: String) throws -> StoredAnswer? {
        try readers.read { connection in try Self.answer(scope: scope, key: key, connection) }
    }

    func save(_ answer: StoredAnswer, scope: String, key: String, at: String, in transaction: any WriteTransaction) throws {
        do {
            try transaction.connection.run(
                "INSERT INTO idempotency_keys (key, scope, status, body, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(key), .text(scope), .integer(Int64(answer.status)), .blob(answer.body), .blob(answer.fingerprint), .text(at)])
        } catch let error where error.isUniqueViolation {
            throw StoreError.duplicate(constraint: "idempotency_keys.key")
        }
    }

    private static func answer(scope: String, key: String, _ connection: SQLiteConnection) throws -> StoredAnswer? {
        try connection.query("SELECT key, body, status, fingerprint FROM idempotency_keys WHERE scope = ? AND key = ?",
                             [.text(scope), .text(key)]).first.map { values in
            let row = StoredRow(values, table: "idempotency_keys", keyColumn: "key")
            return StoredAnswer(body: try row.blob("body"), status: try row.int("status"), fingerprint: try row.blob("fingerprint"))
        }
    }
}
