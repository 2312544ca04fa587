import ShopfloorCrypto

/// Signs staff in to the pages with an API key, and back out (API.md, Operations).
///
/// The session lasts `ttl` from its last use: a use past the first tenth of it moves the expiry
/// (one write in the background, not one per request). It stands for its key as the key is now, so
/// a revoked key's sessions stop at once.
public final class StaffSessionService: Sendable {
    public static let tokenPrefix = "sfs_"
    public static let defaultTTL: Duration = .seconds(12 * 3600)

    private let store: any StaffSessionStore
    private let writer: any StoreWriter
    private let keys: APIKeyService
    private let clock: any WallClock
    private let ttl: Int64

    public init(stores: Stores, keys: APIKeyService, ttl: Duration = defaultTTL, clock: any WallClock) {
        store = stores.staffSessions
        writer = stores.writer
        self.keys = keys
        self.clock = clock
        self.ttl = max(60_000, ttl.components.seconds * 1000)
    }

    /// A signed-in session: who it is, the CSRF token for writes, when it ends.
    public struct Opened: Sendable {
        public var principal: Principal
        public var csrfToken: String
        public var expiresAtMilliseconds: Int64
    }

    /// Exchanges an active API key for a session; the token goes in the cookie, never in the page.
    public func signIn(key: String) async throws -> (token: String, session: Opened) {
        guard key.utf8.count <= 200, let principal = keys.authenticate(key) else { throw AuthError.invalidKey }
        let token = Self.tokenPrefix + SecureRandom.base32(32)
        let now = clock.milliseconds
        let session = StaffSession(tokenHash: Digest.sha256(Array(token.utf8)), keyID: principal.keyID, csrfToken: SecureRandom.base32(20),
                                   createdAt: clock.timestamp, expiresAtMilliseconds: now + ttl)
        let store = store
        try await writer.write { transaction in
            try store.deleteExpired(before: now, in: transaction)
            try store.insert(session, in: transaction)
        }
        return (token, Opened(principal: principal, csrfToken: session.csrfToken, expiresAtMilliseconds: session.expiresAtMilliseconds))
    }

    /// The session a cookie's token names, while it lasts and its key is active.
    public func authenticate(_ token: String) -> Opened? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 100 else { return nil }
        let hash = Digest.sha256(Array(token.utf8))
        let now = clock.milliseconds
        guard let session = try? store.session(tokenHash: hash), Digest.constantTimeEquals(session.tokenHash, hash),
              session.expiresAtMilliseconds > now, let principal = keys.principal(of: session.keyID) else { return nil }
        var expires = session.expiresAtMilliseconds
        if expires - now < ttl - ttl / 10 {
            let (store, later) = (store, now + ttl)
            expires = later
            writer.submit({ transaction in try store.extend(tokenHash: hash, expiresAtMilliseconds: later, in: transaction) }, completion: { _ in })
        }
        return Opened(principal: principal, csrfToken: session.csrfToken, expiresAtMilliseconds: expires)
    }

    public func signOut(_ token: String) async throws {
        let (store, hash) = (store, Digest.sha256(Array(token.utf8)))
        try await writer.write { transaction in try store.delete(tokenHash: hash, in: transaction) }
    }

    /// The session's lifetime in seconds, for the cookie's `Max-Age`.
    public var ttlSeconds: Int64 { ttl / 1000 }
}
