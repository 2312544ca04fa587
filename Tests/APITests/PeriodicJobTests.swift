import Logging
import ServiceLifecycle
import ShopfloorAPI
import ShopfloorTesting
import Synchronization
import Testing

private struct Deliberate: Error {}

/// Runs `job` in a service group until `body` returns, then shuts the group down gracefully and waits
/// for it, as the application does.
private func whileRunning(_ job: PeriodicJob, logger: Logger, _ body: () async throws -> Void) async throws {
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [job], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await body()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

@Suite(.timeLimit(.minutes(1))) struct PeriodicJobTests {
    @Test func aPassThatThrowsIsLoggedAndTheJobRunsAgainOnItsNextTick() async throws {
        let logs = LogRecorder()
        let passes = Mutex(0)
        let (started, passStarted) = AsyncStream<Int>.makeStream()
        let job = PeriodicJob(name: "flaky", interval: .milliseconds(1), logger: logs.logger) {
            let pass = passes.withLock { $0 += 1; return $0 }
            passStarted.yield(pass)
            if pass == 1 { throw Deliberate() }
        }
        try await whileRunning(job, logger: logs.logger) {
            for await pass in started where pass == 2 { break }
        }
        let errors = logs.all.filter { $0.level == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.metadata["job"] == "flaky")
        #expect(errors.first?.message == "flaky failed, next pass in 0.001 seconds: Deliberate()")
        #expect(passes.withLock { $0 } >= 2)
    }

    @Test func gracefulShutdownEndsTheWaitForTheNextTick() async throws {
        let logs = LogRecorder()
        let (started, passStarted) = AsyncStream<Void>.makeStream()
        // An hour between passes: the suite's time limit fails the test if shutdown waits for the tick.
        let job = PeriodicJob(name: "hourly", interval: .seconds(3600), logger: logs.logger) { passStarted.yield() }
        try await whileRunning(job, logger: logs.logger) {
            for await _ in started { break }
        }
        #expect(logs.all.contains { $0.message == "background job ended" && $0.metadata["job"] == "hourly" })
        #expect(!logs.all.contains { $0.level == .error })
    }
}
