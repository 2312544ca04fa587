import ShopfloorDomain
import Synchronization

/// The open event channels, so a revoked key's connections can be found: a revocation asks each to
/// check its credential again (``EventChannel/credentialRevoked()``). Revocations are rare and the
/// check is a hash lookup, so no index by key is kept.
final class EventChannels: Sendable {
    private let open = Mutex<[UInt64: EventChannel]>([:])

    init(keys: APIKeyService) {
        keys.observeRevocations { [weak self] _ in self?.credentialsRevoked() }
    }

    func add(_ channel: EventChannel) {
        open.withLock { $0[channel.connectionID] = channel }
    }

    func remove(_ channel: EventChannel) {
        _ = open.withLock { $0.removeValue(forKey: channel.connectionID) }
    }

    private func credentialsRevoked() {
        for channel in open.withLock({ Array($0.values) }) { channel.credentialRevoked() }
    }
}
