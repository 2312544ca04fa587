import Logging
import ServiceLifecycle
import ShopfloorDomain

/// The scheduler (durable timers) and the flow engine (triggers and exits from the event log), each
/// a service of the application's group, stopped before the database. A timer whose job was cut
/// short stays in the store and fires at the next start; events not yet read are read from the mark.
struct SchedulerService: Service {
    let scheduler: Scheduler
    let logger: Logger

    func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "scheduler"]) }
        let scheduler = scheduler
        await cancelWhenGracefulShutdown { await scheduler.run() }
    }
}

struct FlowEngineService: Service {
    let engine: FlowEngine
    let logger: Logger

    func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "automation"]) }
        let engine = engine
        await cancelWhenGracefulShutdown { await engine.run() }
    }
}

/// The weekly replenishment runner: works through a started run a batch at a time.
struct ReplenishmentRunService: Service {
    let replenishment: ReplenishmentService
    let logger: Logger

    func run() async {
        defer { logger.debug("background job ended", metadata: ["job": "replenishment"]) }
        let replenishment = replenishment
        await cancelWhenGracefulShutdown { await replenishment.run() }
    }
}
