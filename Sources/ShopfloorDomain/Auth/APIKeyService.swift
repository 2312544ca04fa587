import Foundation
import ShopfloorCrypto
import Synchronization

/// Issues, lists, revokes and checks API keys.
///
/// Keys are random `sf_…` tokens; only their SHA-256 is stored. Active keys are held in memory by
/// hash, so authenticating costs a hash and a dictionary lookup, then a constant-time comparison.
public final class APIKeyService: Sendable {
    private struct Entry: Sendable {
        let hash: [UInt8]
        let principal: Principal
    }

    private let store: any APIKeyStore
    private let writer: any StoreWriter
    private let clock: any WallClock
    private let active: Mutex<[String: Entry]>
    /// Told of each revoked key once it is out of `active`: live connections it opened end.
    private let revocationObservers = Mutex<[@Sendable (APIKeyID) -> Void]>([])

    public init(stores: Stores, clock: any WallClock = SystemClock()) throws {
        store = stores.apiKeys
        writer = stores.writer
        self.clock = clock
        var entries: [String: Entry] = [:]
        for (hash, principal) in try store.activeKeys() {
            entries[APIKeyService.hex(hash)] = Entry(hash: hash, principal: principal)
        }
        active = Mutex(entries)
    }

    /// The principal for a bearer token, or `nil` when it is not an active key.
    public func authenticate(_ token: String) -> Principal? {
        let hash = Digest.sha256(Array(token.utf8))
        guard let entry = active.withLock({ $0[APIKeyService.hex(hash)] }),
              Digest.constantTimeEquals(entry.hash, hash)
        else { return nil }
        return entry.principal
    }

    /// The principal of an active key by its id (a staff session's key), `nil` once it is revoked.
    public func principal(of id: APIKeyID) -> Principal? {
        active.withLock { entries in entries.values.first { $0.principal.keyID == id }?.principal }
    }

    /// Issues a key; the returned secret is shown once and never stored.
    public func issue(role: Role, name: String, location: Location?) async throws -> (key: APIKey, secret: String) {
        var validator = Validator()
        validator.text(name, "name", max: 100)
        try validator.throwIfAny()
        guard (role == .pos) == (location != nil) else { throw AuthError.locationRequired }
        let secret = "sf_" + SecureRandom.base32(32)
        let key = try await insert(secret: secret, role: role, name: name, location: location)
        return (key, secret)
    }

    /// Every active key.
    public func list() throws -> [APIKey] {
        try store.list()
    }

    /// Revokes a key at once, for every request from now on.
    public func revoke(_ id: APIKeyID) async throws {
        let now = clock.timestamp
        let revoked = try await writer.write { [store] transaction in try store.revoke(id, at: now, in: transaction) }
        guard revoked else { throw AuthError.keyNotFound(id.rawValue) }
        active.withLock { entries in entries = entries.filter { $0.value.principal.keyID != id } }
        for observer in revocationObservers.withLock({ $0 }) { observer(id) }
    }

    /// Calls `observer` after each revocation, once the key no longer authenticates.
    public func observeRevocations(_ observer: @escaping @Sendable (APIKeyID) -> Void) {
        revocationObservers.withLock { $0.append(observer) }
    }

    /// Makes sure an admin can get in: the key in `SHOPFLOOR_ADMIN_KEY` if given, else a new key written
    /// to `<dataDirectory>/admin.key` (mode 0600) when no admin key exists yet. Returns a new secret.
    public func bootstrapAdmin(configuredKey: String?, dataDirectory: String) async throws -> String? {
        if let configuredKey {
            if authenticate(configuredKey)?.role != .admin {
                _ = try await insert(secret: configuredKey, role: .admin, name: "SHOPFLOOR_ADMIN_KEY", location: nil)
            }
            return nil
        }
        let hasAdmin = active.withLock { $0.values.contains { $0.principal.role == .admin } }
        guard !hasAdmin else { return nil }
        let (_, secret) = try await issue(role: .admin, name: "first admin", location: nil)
        let path = (dataDirectory as NSString).appendingPathComponent("admin.key")
        guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return secret
    }

    private func insert(secret: String, role: Role, name: String, location: Location?) async throws -> APIKey {
        let hash = Digest.sha256(Array(secret.utf8))
        let key = APIKey(id: .make(), name: name, role: role, location: location?.code, createdAt: clock.timestamp)
        try await writer.write { [store] transaction in
            try store.insert(key, hash: hash, locationID: location?.id, in: transaction)
        }
        let principal = Principal(keyID: key.id, role: role, locationID: location?.id)
        active.withLock { $0[APIKeyService.hex(hash)] = Entry(hash: hash, principal: principal) }
        return key
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
