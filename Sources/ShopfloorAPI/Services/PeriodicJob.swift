public import Logging
public import ServiceLifecycle

/// A maintenance job run as one service of the application's `ServiceGroup`: its body runs at once,
/// then again every `interval`.
///
/// A failed pass is logged at error level with the job's name and the next tick runs as usual: one
/// failed pass (a busy disk, a full WAL) says nothing about the next, and a job that gave up after its
/// first error would leave its work undone for the rest of the process's life (event pruning did, and
/// the event log grew without bound).
///
/// On graceful shutdown the wait for the next tick ends at once and ``run()`` returns; a pass already
/// under way is finished first (it is short, and stopping a write halfway gains nothing). Cancellation
/// ends the wait too and reaches the pass itself. The group closes the database only after every job
/// has returned (see "Lifecycle" in docs/ARCHITECTURE.md).
public struct PeriodicJob: Service {
    /// Names the job in its log lines (metadata `job`).
    public let name: String
    private let interval: Duration
    private let logger: Logger
    private let body: @Sendable () async throws -> Void

    public init(name: String, interval: Duration, logger: Logger, body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.body = body
    }

    public func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "\(name)"]) }
        let interval = interval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await body()
            } catch where Task.isCancelled {
                return
            } catch {
                logger.error("\(name) failed, next pass in \(interval): \(error)", metadata: ["job": "\(name)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
