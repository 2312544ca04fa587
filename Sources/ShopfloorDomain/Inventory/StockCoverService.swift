import Foundation

/// Stock cover (API.md, Automation; seed 003): how many days each SKU's stock at each location lasts
/// at the pace it sells there, online and at the till, over the cover window; and a task for staff,
/// with a `stock.low_cover` event, when it drops below the product's lead time, so a shortage is seen
/// while it can still be reordered. Checked every 15 minutes on the injected clock (a scheduler timer).
public final class StockCoverService: Sendable {
    static let timer = "stock_cover"
    static let key = "stock_cover"
    /// How often the cover is checked for SKUs crossing below their lead time.
    static let checkEvery: Int64 = 15 * 60 * 1000
    /// The lead time of a product that has none of its own.
    public static let defaultLeadTimeDays = 7

    private let store: any StockCoverStore
    private let tasks: any TaskStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let scheduler: Scheduler
    private let clock: any WallClock
    /// How far back sales count (`--cover-window`), in whole days.
    private let windowDays: Int

    public init(stores: Stores, events: EventLog, scheduler: Scheduler, window: Duration, clock: any WallClock) {
        store = stores.cover
        tasks = stores.tasks
        writer = stores.writer
        self.events = events
        self.scheduler = scheduler
        self.clock = clock
        windowDays = max(1, Int(window.components.seconds / 86_400))
        scheduler.register(Self.timer) { [weak self] _, transaction in try self?.check(in: transaction) }
    }

    /// Sets the first check going, unless one is set already (a restart keeps its timer).
    public func start() async throws {
        let (scheduler, due) = (scheduler, clock.milliseconds + Self.checkEvery)
        try await writer.write { transaction in
            _ = try scheduler.scheduleIfAbsent(Self.timer, key: Self.key, ref: "", at: due, in: transaction)
        }
    }

    /// SKUs at locations (one location, if given) whose cover is below `below`, else below their
    /// lead time; those selling nothing last for ever and are not listed. Shortest cover first.
    public func cover(below: Duration?, location: String?) throws -> [StockCover] {
        let limit = below.map { Double($0.components.seconds) / 86_400 }
        return try all(location: location).filter { cover in
            guard let days = cover.daysOfCover else { return false }
            return days < (limit ?? Double(cover.leadTimeDays))
        }.sorted { ($0.daysOfCover ?? 0, $0.sku, $0.location) < ($1.daysOfCover ?? 0, $1.sku, $1.location) }
    }

    /// Sets a product's lead time in days (`nil` for the default).
    public func setLeadTime(_ days: Int?, of product: ProductID) async throws {
        if let days { guard (0...365).contains(days) else { throw ValidationError(field: "days", detail: "must be from 0 to 365") } }
        let store = store
        let found = try await writer.write { transaction in try store.setLeadTime(days, of: product, in: transaction) }
        guard found else { throw CatalogueError.productNotFound(product.rawValue) }
    }

    private func all(location: String?) throws -> [StockCover] {
        let since = String(Timestamp.string(clock.now().addingTimeInterval(-Double(windowDays - 1) * 86_400)).prefix(10))
        return try store.cover(soldSince: since, location: location).map { row in
            let perDay = Double(max(0, row.sold)) / Double(windowDays)
            return StockCover(sku: row.sku, location: row.location, available: row.available, soldPerDay: perDay,
                              daysOfCover: perDay > 0 ? Double(max(0, row.available)) / perDay : nil,
                              leadTimeDays: row.leadTimeDays ?? Self.defaultLeadTimeDays)
        }
    }

    /// One check: a task and a `stock.low_cover` event (topic `tasks`) for each SKU and location that
    /// went below its lead time since the last; those back above are forgotten, so a later drop alerts
    /// again. Sets the next check.
    func check(in transaction: any WriteTransaction) throws {
        let stamp = clock.timestamp
        let low = try cover(below: nil, location: nil)
        let known = try store.lowCover(in: transaction)
        let now = Set(low.map { StockCoverKey(sku: $0.sku, location: $0.location) })
        for cover in low where !known.contains(StockCoverKey(sku: cover.sku, location: cover.location)) {
            try store.markLow(StockCoverKey(sku: cover.sku, location: cover.location), since: stamp, in: transaction)
            let days = cover.daysOfCover.map { String(format: "%.1f", $0) } ?? "0"
            let task = StaffTask(
                id: .make(), text: "Reorder \(cover.sku) for \(cover.location): \(days) days of stock left, lead time \(cover.leadTimeDays) days",
                status: .open, customerID: nil, orderID: nil, flowID: nil, runID: nil, createdAt: stamp, doneAt: nil, doneBy: nil)
            try tasks.insert(task, in: transaction)
            try TaskService.appendEvent("task.created", for: task, to: events, in: transaction)
            try events.append(type: "stock.low_cover", topic: "tasks", data: LowCoverEvent(cover, taskID: task.id.rawValue), in: transaction)
        }
        for key in known where !now.contains(key) { try store.clearLow(key, in: transaction) }
        try scheduler.schedule(Self.timer, key: Self.key, ref: "", at: clock.milliseconds + Self.checkEvery, in: transaction)
    }
}

/// One SKU at one location: what is there, how fast it sells, how long it lasts.
public struct StockCover: Sendable, Equatable {
    public var sku: String
    public var location: String
    public var available: Int
    /// Units sold a day over the cover window, online and at the till.
    public var soldPerDay: Double
    /// `available / soldPerDay`; `nil` when it sells nothing.
    public var daysOfCover: Double?
    public var leadTimeDays: Int
}

/// The payload of `stock.low_cover`.
struct LowCoverEvent: Encodable {
    var sku: String
    var location: String
    var available: Int
    var soldPerDay: Double
    var daysOfCover: Double?
    var leadTimeDays: Int
    var taskID: String

    init(_ cover: StockCover, taskID: String) {
        sku = cover.sku
        location = cover.location
        available = cover.available
        soldPerDay = (cover.soldPerDay * 100).rounded() / 100
        daysOfCover = cover.daysOfCover.map { ($0 * 10).rounded() / 10 }
        leadTimeDays = cover.leadTimeDays
        self.taskID = taskID
    }
}
