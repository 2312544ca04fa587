/// Tasks for staff (API.md, Automation): listed for admins and tills, marked done by whoever did them.
/// Flows make them (``RunExecutor``); each change is an event on topic `tasks`.
public final class TaskService: Sendable {
    private let store: any TaskStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let clock: any WallClock

    public init(stores: Stores, events: EventLog, clock: any WallClock) {
        store = stores.tasks
        writer = stores.writer
        self.events = events
        self.clock = clock
    }

    /// Tasks newest first, optionally of one status, a page at a time.
    public func tasks(status: TaskStatus?, limit: Int, before: Int64?) throws -> Page<StaffTask> {
        let limit = max(1, min(limit, 200))
        let found = try store.tasks(status: status, before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: \.task)
    }

    /// Marks the task done by `actor`; a task already done stays as it was (the first one to finish it).
    public func done(_ id: TaskID, by actor: String) async throws -> StaffTask {
        let (store, events, stamp) = (store, events, clock.timestamp)
        return try await writer.write { transaction in
            guard var task = try store.task(id, in: transaction) else { throw AutomationError.taskNotFound(id.rawValue) }
            guard task.status == .open else { return task }
            task.status = .done
            task.doneAt = stamp
            task.doneBy = actor
            try store.update(task, in: transaction)
            try Self.appendEvent("task.done", for: task, to: events, in: transaction)
            return task
        }
    }

    /// `task.created` or `task.done` on topic `tasks`: the task as listed, so a till's list can take it in.
    static func appendEvent(_ type: String, for task: StaffTask, to events: EventLog, in transaction: any WriteTransaction) throws {
        try events.append(type: type, topic: "tasks", data: TaskEvent(task), in: transaction)
    }
}

/// The payload of the `tasks` topic's events.
struct TaskEvent: Encodable {
    var taskID: String
    var text: String
    var status: TaskStatus
    var customerID: String?
    var orderID: String?
    var flowID: String?
    var runID: String?
    var createdAt: String
    var doneAt: String?

    init(_ task: StaffTask) {
        taskID = task.id.rawValue
        text = task.text
        status = task.status
        customerID = task.customerID?.rawValue
        orderID = task.orderID?.rawValue
        flowID = task.flowID?.rawValue
        runID = task.runID?.rawValue
        createdAt = task.createdAt
        doneAt = task.doneAt
    }
}
