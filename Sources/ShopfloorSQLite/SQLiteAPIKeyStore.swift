import ShopfloorDomain
import ShopfloorStorage

/// API keys in table `api_keys`: the SHA-256 of each secret, never the secret.
struct SQLiteAPIKeyStore: APIKeyStore {
    let readers: ReaderPool

    func activeKeys() throws -> [ActiveKey] {
        try readers.read { connection in
            try connection.query("SELECT id, role, location_id, secret_hash FROM api_keys WHERE revoked_at IS NULL").map { values in
                let row = StoredRow(values, table: "api_keys", keyColumn: "id")
                let principal = Principal(
                    keyID: try row.id("id", as: APIKeyID.self), role: try row.value("role", as: Role.self),
                    locationID: try row.optionalText("location_id").map(LocationID.init(rawValue:)))
                return (try row.blob("secret_hash"), principal)
            }
        }
    }

    func list() throws -> [APIKey] {
        try readers.read { connection in
            try connection.query(
                """
                SELECT k.id, k.name, k.role, k.created_at, l.code AS location FROM api_keys k
                LEFT JOIN locations l ON l.id = k.location_id WHERE k.revoked_at IS NULL ORDER BY k.rowid
                """
            ).map { values in
                let row = StoredRow(values, table: "api_keys", keyColumn: "id")
                return APIKey(
                    id: try row.id("id", as: APIKeyID.self), name: try row.text("name"), role: try row.value("role", as: Role.self),
                    location: try row.optionalText("location"), createdAt: try row.text("created_at"))
            }
        }
    }

    func insert(_ key: APIKey, hash: [UInt8], locationID: LocationID?, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO api_keys (id, name, role, location_id, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(key.id.rawValue), .text(key.name), .text(key.role.rawValue), .optional(locationID?.rawValue), .blob(hash), .text(key.createdAt)])
    }

    func revoke(_ id: APIKeyID, at: String, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.text(at), .text(id.rawValue)]) == 1
    }
}
