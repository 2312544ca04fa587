import Synchronization

/// Where the service is in its life, as `/ready` reports it.
public final class Lifecycle: Sendable {
    public enum State: Int, Sendable {
        case starting, ready, draining
    }

    private let value = Atomic<Int>(State.starting.rawValue)

    public init() {}

    public var state: State { State(rawValue: value.load(ordering: .relaxed)) ?? .starting }

    public func enter(_ state: State) { value.store(state.rawValue, ordering: .relaxed) }
}
