#if canImport(Glibc)
import Glibc
#endif

/// A value that many threads read at once and one thread at a time changes.
///
/// Searches read the catalogue's index on every event loop at once, and a `Mutex` would let only one
/// of them in. Writers are preferred (glibc's default prefers readers), so a steady stream of
/// searches cannot hold off a catalogue change for ever.
///
/// `@unchecked Sendable`: `value` is only reached inside ``read(_:)`` and ``write(_:)``, which hold the
/// pthread lock shared or exclusive; readers get it as a borrow and cannot change it.
final class ReadWriteLock<Value: ~Copyable & Sendable>: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    private var value: Value

    init(_ value: consuming Value) {
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        self.value = value
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func read<T>(_ body: (borrowing Value) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    func write<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}
