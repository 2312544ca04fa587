import ShopfloorDomain
import ShopfloorTransport
import Synchronization

/// At most `max` open carts per client address (`--max-open-carts-per-address`), so one anonymous
/// client cannot hold every unit of a product across many carts. Staff carts are not counted.
///
/// The carts an address made are kept in memory (the address is never stored) with when they were
/// made; one older than the longest hold cannot hold stock any more, so it is forgotten, which also
/// bounds the table. At the cap, the address's carts are looked up and those no longer active
/// (completed, deleted, expired) are dropped before the new one is refused. A create in progress
/// holds a place, so parallel requests cannot overshoot the cap.
final class OpenCartLimiter: Sendable {
    private struct Entry {
        var carts: [(id: CartID, createdAt: Int64)] = []
        var pending = 0
        var isEmpty: Bool { carts.isEmpty && pending == 0 }
    }

    let max: Int
    private let maxHold: Int64
    private let clock: any WallClock
    private let entries = Mutex<[IPAddress: Entry]>([:])

    init(max: Int, maxHold: Duration, clock: any WallClock) {
        self.max = max
        self.maxHold = maxHold.components.seconds * 1000
        self.clock = clock
    }

    /// Makes a cart with `create` if `address` is under the cap, looking up its carts' status with
    /// `isActive` (outside the lock) when it is at it.
    func create(from address: IPAddress, isActive: (CartID) throws -> Bool, _ create: () async throws -> Cart) async throws -> Cart {
        if !reserve(address) {
            let theirs = entries.withLock { $0[address]?.carts.map(\.id) ?? [] }
            let closed = Set(try theirs.filter { try !isActive($0) }.map(\.rawValue))
            entries.withLock { $0[address]?.carts.removeAll { closed.contains($0.id.rawValue) } }
            guard reserve(address) else { throw APIError.tooManyOpenCarts(max: max) }
        }
        do {
            let cart = try await create()
            let now = clock.milliseconds
            entries.withLock { entries in
                entries[address, default: Entry()].pending -= 1
                entries[address, default: Entry()].carts.append((cart.id, now))
            }
            return cart
        } catch {
            entries.withLock { entries in
                entries[address]?.pending -= 1
                if entries[address]?.isEmpty == true { entries[address] = nil }
            }
            throw error
        }
    }

    /// Takes a place for a new cart if the address has one free, forgetting carts past the longest hold.
    private func reserve(_ address: IPAddress) -> Bool {
        let cutoff = clock.milliseconds - maxHold
        return entries.withLock { entries in
            if entries.count > 100_000 { Self.forgetOld(&entries, before: cutoff) }
            var entry = entries[address] ?? Entry()
            entry.carts.removeAll { $0.createdAt < cutoff }
            guard entry.carts.count + entry.pending < max else {
                entries[address] = entry.isEmpty ? nil : entry
                return false
            }
            entry.pending += 1
            entries[address] = entry
            return true
        }
    }

    private static func forgetOld(_ entries: inout [IPAddress: Entry], before cutoff: Int64) {
        for (address, var entry) in entries {
            entry.carts.removeAll { $0.createdAt < cutoff }
            entries[address] = entry.isEmpty ? nil : entry
        }
    }
}
