/// Where API keys live: only a key's SHA-256 is stored, never its secret.
public protocol APIKeyStore: Sendable {
    /// A stored key that is not revoked, as authentication needs it.
    typealias ActiveKey = (hash: [UInt8], principal: Principal)

    /// Every key not revoked, with its hash, for the in-memory table that authenticates.
    func activeKeys() throws -> [ActiveKey]
    /// Every key not revoked, in the order issued.
    func list() throws -> [APIKey]
    func insert(_ key: APIKey, hash: [UInt8], locationID: LocationID?, in transaction: any WriteTransaction) throws
    /// Marks the key revoked at `at`; `false` when no such key is active.
    func revoke(_ id: APIKeyID, at: String, in transaction: any WriteTransaction) throws -> Bool
}
