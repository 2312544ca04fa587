import Foundation
import Testing
@testable import ShopfloorDomain
import ShopfloorStorage

struct APIKeyServiceTests {
    @Test func issuedKeyAuthenticatesUntilRevoked() async throws {
        let store = try TestDatabase()
        let keys = try APIKeyService(stores: store.stores)
        let (key, secret) = try await keys.issue(role: .storefront, name: "web", location: nil)
        #expect(keys.authenticate(secret)?.keyID == key.id)
        #expect(keys.authenticate(secret + "x") == nil)
        try await keys.revoke(key.id)
        #expect(keys.authenticate(secret) == nil)
        #expect(try APIKeyService(stores: store.stores).authenticate(secret) == nil)
    }

    @Test func posKeysNeedALocationAndOthersRefuseOne() async throws {
        let store = try TestDatabase()
        let keys = try APIKeyService(stores: store.stores)
        await #expect(throws: AuthError.locationRequired) { try await keys.issue(role: .pos, name: "till", location: nil) }
        let main = try #require(try LocationService(stores: store.stores, events: try EventLog(stores: store.stores)).find("main"))
        await #expect(throws: AuthError.locationRequired) { try await keys.issue(role: .admin, name: "x", location: main) }
        let (_, secret) = try await keys.issue(role: .pos, name: "till", location: main)
        #expect(keys.authenticate(secret)?.locationID == main.id)
    }

    @Test func firstStartWritesTheAdminKeyOnceWithMode0600() async throws {
        let store = try TestDatabase()
        let keys = try APIKeyService(stores: store.stores)
        let secret = try #require(try await keys.bootstrapAdmin(configuredKey: nil, dataDirectory: store.directory))
        let path = store.directory + "/admin.key"
        #expect(try String(contentsOfFile: path, encoding: .utf8) == secret + "\n")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(keys.authenticate(secret)?.role == .admin)
        #expect(try await keys.bootstrapAdmin(configuredKey: nil, dataDirectory: store.directory) == nil)
    }

    @Test func configuredAdminKeyIsAccepted() async throws {
        let store = try TestDatabase()
        let keys = try APIKeyService(stores: store.stores)
        #expect(try await keys.bootstrapAdmin(configuredKey: "operator-chosen-key-123", dataDirectory: store.directory) == nil)
        #expect(keys.authenticate("operator-chosen-key-123")?.role == .admin)
    }
}
