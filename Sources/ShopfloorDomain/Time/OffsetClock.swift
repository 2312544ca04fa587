public import Foundation
import Synchronization

/// The machine's clock moved on by an offset that only grows: the test-clock mode
/// (`--enable-test-clock`), where a black-box test advances time through the API instead of waiting
/// for carts to expire or retries to come due. Everything that reads the time sees the jump at once;
/// loops that wait (expiry, delivery) still tick in real time and find what came due at their next tick.
public final class OffsetClock: WallClock {
    private let offset: Mutex<Duration>

    public init(offset: Duration = .zero) {
        self.offset = Mutex(offset)
    }

    public func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }.seconds) }

    /// How far ahead of the machine's clock this one is.
    public var currentOffset: Duration { offset.withLock { $0 } }

    /// Moves the clock on by `duration` and returns the new offset.
    @discardableResult
    public func advance(by duration: Duration) -> Duration {
        offset.withLock { offset in
            offset += duration
            return offset
        }
    }
}
