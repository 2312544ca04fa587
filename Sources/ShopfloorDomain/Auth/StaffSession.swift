/// A member of staff signed in to the pages (API.md, Operations): an API key exchanged for a session
/// whose token lives only in an `HttpOnly` cookie. Only the token's SHA-256 is stored, with the key it
/// stands for (revoking the key ends its sessions), the CSRF token the pages send with every write,
/// and when it expires.
public struct StaffSession: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var keyID: APIKeyID
    public var csrfToken: String
    public var createdAt: String
    public var expiresAtMilliseconds: Int64

    public init(tokenHash: [UInt8], keyID: APIKeyID, csrfToken: String, createdAt: String, expiresAtMilliseconds: Int64) {
        self.tokenHash = tokenHash
        self.keyID = keyID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAtMilliseconds = expiresAtMilliseconds
    }
}

/// Staff sessions in storage.
public protocol StaffSessionStore: Sendable {
    func session(tokenHash: [UInt8]) throws -> StaffSession?
    func insert(_ session: StaffSession, in transaction: any WriteTransaction) throws
    /// Moves the expiry later (never earlier).
    func extend(tokenHash: [UInt8], expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws
    func delete(tokenHash: [UInt8], in transaction: any WriteTransaction) throws
    /// Removes sessions that expired before `milliseconds`.
    func deleteExpired(before milliseconds: Int64, in transaction: any WriteTransaction) throws
}
