public import Foundation
import Synchronization

/// Where the domain reads the time of day: every stamp, deadline, expiry and retention cut-off asks
/// one of these, passed in, never `Date()` itself, so tests (and a later test-clock mode) move time by
/// hand instead of waiting for it.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
}

extension WallClock {
    /// Now as stored and sent (``Timestamp``).
    public var timestamp: String { Timestamp.string(now()) }

    /// Now in milliseconds since 1970, as deadlines are kept.
    public var milliseconds: Int64 { now().millisecondsSince1970 }

    /// The instant `duration` from now.
    public func after(_ duration: Duration) -> Date {
        now().addingTimeInterval(duration.seconds)
    }
}

/// The machine's clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that stands still until moved: for tests, and for the test-clock mode a later issue adds.
public final class ManualClock: WallClock {
    private let instant: Mutex<Date>

    /// Starts at `start` (a fixed, whole-second instant by default, so stamps are predictable).
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        instant = Mutex(start)
    }

    public func now() -> Date { instant.withLock { $0 } }

    /// Moves the clock on by `duration`.
    public func advance(by duration: Duration) {
        instant.withLock { $0 = $0.addingTimeInterval(duration.seconds) }
    }
}

extension Date {
    /// The instant in whole milliseconds since 1970: how due times are kept and compared.
    var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
