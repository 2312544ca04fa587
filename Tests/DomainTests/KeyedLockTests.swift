import Synchronization
import Testing
@testable import ShopfloorDomain

/// Waits, yielding, until `condition` holds (no sleep: the condition is the event); fails the test after
/// a minute rather than hanging (the whole suite runs at once on two cores, and a full run can keep a
/// waiting task from its turn for over ten seconds).
private func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        try #require(ContinuousClock.now < deadline, "condition not met in time")
        await Task.yield()
    }
}

/// A one-shot signal: `open()` once; `wait()` returns once it is open, however many wait and whenever.
private final class Latch: Sendable {
    private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}

/// A value the tasks of one test share; a class, so escaping closures capture a reference.
private final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    var current: Value { value.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) { value.withLock { body(&$0) } }
}

/// How many bodies are inside at once, and the most there ever were.
private final class Occupancy: Sendable {
    private let inside = Atomic<Int>(0)
    private let most = Atomic<Int>(0)

    var mostAtOnce: Int { most.load(ordering: .sequentiallyConsistent) }

    func enter() {
        let now = inside.add(1, ordering: .sequentiallyConsistent).newValue
        most.max(now, ordering: .sequentiallyConsistent)
    }

    func leave() { inside.subtract(1, ordering: .sequentiallyConsistent) }
}

/// A task whose end a test waits for with a bound: a lost hand-over then fails the test in a minute
/// instead of hanging the suite, as a task group or `async let` would (they wait for every child).
private struct Watched<Value: Sendable>: Sendable {
    private let task: Task<Value, any Error>
    private let ended = Shared(false)

    init(_ body: @escaping @Sendable () async throws -> Value) {
        let ended = ended
        task = Task {
            defer { ended.update { $0 = true } }
            return try await body()
        }
    }

    var result: Result<Value, any Error> {
        get async throws {
            try await waitUntil { ended.current }
            return await task.result
        }
    }

    var value: Value {
        get async throws { try await result.get() }
    }
}

private enum Failure: Error, Equatable {
    case boom
}

@Suite struct KeyedLockTests {
    @Test func operationsOnOneKeyNeverOverlap() async throws {
        let lock = KeyedLock()
        let occupancy = Occupancy()
        // Read, suspend, write: two bodies at once would lose an increment.
        let total = Shared(0)
        let operations = (0..<200).map { _ in
            Watched {
                try await lock.withLock("cart-1") {
                    occupancy.enter()
                    let seen = total.current
                    await Task.yield()
                    total.update { $0 = seen + 1 }
                    occupancy.leave()
                }
            }
        }
        for operation in operations { try await operation.value }
        #expect(occupancy.mostAtOnce == 1)
        #expect(total.current == 200)
        #expect(lock.heldKeyCount == 0)
    }

    /// Each body waits for the other to be inside: held one after the other, neither would finish.
    @Test func operationsOnDifferentKeysRunAtOnce() async throws {
        let lock = KeyedLock()
        let aInside = Latch()
        let bInside = Latch()
        let a = Watched {
            try await lock.withLock("cart-a") {
                aInside.open()
                await bInside.wait()
                return "a"
            }
        }
        let b = Watched {
            try await lock.withLock("cart-b") {
                bInside.open()
                await aInside.wait()
                return "b"
            }
        }
        #expect(try await [a.value, b.value] == ["a", "b"])
        #expect(lock.heldKeyCount == 0)
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let lock = KeyedLock()
        let held = Latch()
        let release = Latch()
        let holder = Watched {
            try await lock.withLock("cart-1") {
                held.open()
                await release.wait()
            }
        }
        await held.wait()
        let served = Shared<[Int]>([])
        var waiters: [Watched<Void>] = []
        for arrival in 0..<20 {
            waiters.append(Watched {
                try await lock.withLock("cart-1") { served.update { $0.append(arrival) } }
            })
            // Queued before the next one starts: arrival order is the loop's order.
            try await waitUntil { lock.waiterCount(for: "cart-1") == arrival + 1 }
        }
        #expect(served.current.isEmpty)
        release.open()
        try await holder.value
        for waiter in waiters { try await waiter.value }
        #expect(served.current == Array(0..<20))
        #expect(lock.heldKeyCount == 0)
    }

    @Test func aBodyThatThrowsPassesTheKeyToTheNextWaiterAndTheErrorToItsCaller() async throws {
        let lock = KeyedLock()
        let held = Latch()
        let fail = Latch()
        let holder = Watched {
            try await lock.withLock("cart-1") { () async throws -> Int in
                held.open()
                await fail.wait()
                throw Failure.boom
            }
        }
        await held.wait()
        let waiter = Watched { try await lock.withLock("cart-1") { 42 } }
        try await waitUntil { lock.waiterCount(for: "cart-1") == 1 }
        fail.open()
        await #expect(throws: Failure.boom) { try await holder.value }
        #expect(try await waiter.value == 42)
        #expect(lock.heldKeyCount == 0)
    }

    @Test func aBodyThatThrowsWithNoOneWaitingFreesTheKey() async throws {
        let lock = KeyedLock()
        await #expect(throws: Failure.boom) {
            try await lock.withLock("cart-1") { () async throws -> Int in throw Failure.boom }
        }
        // Required: taking a key that was not freed would wait for ever.
        try #require(lock.waiterCount(for: "cart-1") == nil)
        #expect(try await lock.withLock("cart-1") { "again" } == "again")
        #expect(lock.heldKeyCount == 0)
    }

    @Test func theTableHoldsNothingOnceEveryOperationHasFinished() async throws {
        let lock = KeyedLock()
        let runs = Shared(0)
        let operations = (0..<50).flatMap { key in
            (0..<10).map { attempt in
                Watched {
                    try await lock.withLock("cart-\(key)") {
                        runs.update { $0 += 1 }
                        if attempt == 3 { throw Failure.boom }
                    }
                }
            }
        }
        var failures = 0
        for operation in operations {
            if case .failure(let error) = try await operation.result {
                #expect(error as? Failure == .boom)
                failures += 1
            }
        }
        #expect(failures == 50)
        #expect(runs.current == 500)
        #expect(lock.heldKeyCount == 0)
    }
}
