import Synchronization
import Testing
@testable import ShopfloorTransport

/// Waits, polling, until `condition` holds; fails the test after a minute (the whole suite runs at
/// once on two cores).
private func eventually(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        try #require(ContinuousClock.now < deadline, "condition not met in time")
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// The task a job runs on, told apart by identity.
private func currentTaskID() -> Int {
    withUnsafeCurrentTask { $0?.hashValue ?? 0 }
}

/// Opened once; waiting on it returns once it is open.
private actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

@Suite struct RequestWorkersTests {
    @Test func jobsThatOverlapRunAtOnce() async throws {
        let workers = RequestWorkers()
        defer { workers.close() }
        // The first job waits until the second has run: on one worker it would wait forever.
        let gate = Gate()
        let finished = Atomic<Int>(0)
        workers.run {
            await gate.wait()
            finished.add(1, ordering: .relaxed)
        }
        workers.run {
            await gate.open()
            finished.add(1, ordering: .relaxed)
        }
        try await eventually { finished.load(ordering: .relaxed) == 2 }
    }

    @Test func theNextJobRunsOnTheWorkerTheLastOneLeft() async throws {
        let workers = RequestWorkers()
        defer { workers.close() }
        let tasks = Mutex<[Int]>([])
        for round in 1...3 {
            workers.run { tasks.withLock { $0.append(currentTaskID()) } }
            try await eventually { tasks.withLock { $0.count } == round && workers.idleCount == 1 }
        }
        let seen = tasks.withLock { $0 }
        #expect(Set(seen).count == 1, "three jobs one after another ran on \(Set(seen).count) tasks")
    }

    @Test func closingEndsWaitingWorkersAndLaterJobsStillRun() async throws {
        let workers = RequestWorkers()
        let ran = Atomic<Int>(0)
        workers.run { ran.add(1, ordering: .relaxed) }
        try await eventually { workers.idleCount == 1 }
        workers.close()
        #expect(workers.idleCount == 0)
        workers.run { ran.add(1, ordering: .relaxed) }
        try await eventually { ran.load(ordering: .relaxed) == 2 }
        // The worker that ran it ends instead of waiting.
        try await Task.sleep(for: .milliseconds(20))
        #expect(workers.idleCount == 0)
    }

    @Test func noMoreThanTheLimitWaits() async throws {
        let workers = RequestWorkers()
        defer { workers.close() }
        let count = RequestWorkers.maxIdle + 8
        let release = Atomic<Bool>(false)
        let done = Atomic<Int>(0)
        for _ in 0..<count {
            workers.run {
                while !release.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(1)) }
                done.add(1, ordering: .relaxed)
            }
        }
        release.store(true, ordering: .relaxed)
        try await eventually { done.load(ordering: .relaxed) == count }
        try await eventually { workers.idleCount == RequestWorkers.maxIdle }
        try await Task.sleep(for: .milliseconds(20))
        #expect(workers.idleCount == RequestWorkers.maxIdle)
    }
}
