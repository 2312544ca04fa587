import Foundation
public import Logging

/// Replenishment (API.md, Automation; seed 001): each week, at `--replenishment-schedule` in the
/// shop's time zone, every customer's items that will run out before the next run (by
/// ``ReplenishmentPlan``) are gathered into one proposal, and each proposal enters the active
/// `replenishment.due` flows, which send its link and follow it up.
///
/// The run is not one job: a timer starts it (a `replenishment_runs` row, in the same transaction as
/// the next week's timer), and ``runPending()`` goes through the customers 2,000 at a time:
/// the purchases are read from a reader, the plans worked out off the writer, and each batch's
/// proposals, their flow entries and the run's cursor are written in one job. So the writer is never
/// held for more than a batch's inserts, a restart carries on from the cursor, and a customer gets
/// one proposal per run (`UNIQUE (customer_id, run_key)`) whatever crashes when.
public final class ReplenishmentService: Sendable {
    static let timer = "replenishment"
    static let timerKey = "replenishment"
    /// Customers read per batch, by default.
    public static let defaultBatchSize = 2_000
    /// How long the runner rests after a batch, as a share of the time the batch took.
    static let restFactor = 1.0
    /// Intervals overdue after which an item counts as given up.
    static let lapsedAfter = 3.0
    /// A run proposes what falls due before the next one.
    static let horizon: TimeInterval = 7 * 86_400
    /// How long a proposal may wait for an answer.
    static let proposalLife: TimeInterval = 7 * 86_400
    /// Days a postponed item waits when the customer does not say.
    public static let defaultPostponeDays = 14

    private let store: any ReplenishmentStore
    private let stock: any StockStore
    private let writer: any StoreWriter
    private let engine: FlowEngine
    private let scheduler: Scheduler
    private let pricing: PricingService
    public let links: ProposalLinks
    private let schedule: WeeklySchedule
    private let clock: any WallClock
    private let logger: Logger
    private let batchSize: Int
    private let wakeups = Wakeups()

    public init(stores: Stores, engine: FlowEngine, scheduler: Scheduler, pricing: PricingService, links: ProposalLinks, schedule: WeeklySchedule,
                batchSize: Int = defaultBatchSize, clock: any WallClock, logger: Logger = Logger(label: "shopfloor.replenishment")) {
        self.batchSize = batchSize
        store = stores.replenishment
        stock = stores.stock
        writer = stores.writer
        self.engine = engine
        self.scheduler = scheduler
        self.pricing = pricing
        self.links = links
        self.schedule = schedule
        self.clock = clock
        self.logger = logger
        let wakeups = wakeups
        stores.writer.observeCommits { transaction in
            guard transaction.transactionNotes.contains(where: { $0 is RunStarted }) else { return nil }
            return { wakeups.wake() }
        }
        scheduler.register(Self.timer) { [weak self] _, transaction in try self?.startRun(in: transaction) }
    }

    /// Sets the next weekly run going, unless its timer is set already (a restart keeps it).
    public func start() async throws {
        let (scheduler, due) = (scheduler, nextRun(after: clock.now()).millisecondsSince1970)
        try await writer.write { transaction in
            _ = try scheduler.scheduleIfAbsent(Self.timer, key: Self.timerKey, ref: "", at: due, in: transaction)
        }
    }

    /// Now, by the server's clock.
    public var timestamp: String { clock.timestamp }

    private var timeZone: TimeZone { TimeZone(identifier: pricing.rules.settings.timezone) ?? .gmt }

    private func nextRun(after instant: Date) -> Date {
        schedule.next(after: instant, in: timeZone)
    }

    /// The weekly timer: records the run (once, whatever fires twice) and sets next week's.
    private func startRun(in transaction: any WriteTransaction) throws {
        let now = clock.now()
        let key = WeeklySchedule.localDate(now, in: timeZone)
        if try store.startRun(key, at: Timestamp.string(now), in: transaction) {
            transaction.transactionNotes.append(RunStarted())
        }
        try scheduler.schedule(Self.timer, key: Self.timerKey, ref: "", at: nextRun(after: now).millisecondsSince1970, in: transaction)
    }

    // MARK: Running

    /// Works through unfinished runs until cancelled: woken when one starts, and every `tick` (a run
    /// left unfinished by a restart, or a batch that failed).
    public func run(tick: Duration = .seconds(1)) async {
        await wakeups.run(tick: tick) { [self] in await runPending() }
    }

    /// Finishes every unfinished run, a batch at a time (at most `maxBatches`): the step tests take
    /// after moving the clock.
    public func runPending(maxBatches: Int = .max) async {
        var batches = 0
        do {
            for var run in try store.unfinishedRuns() {
                // Read once a run: a product's interval changed during it applies from the next.
                let catalogue = try store.replenishable()
                while run.finishedAt == nil {
                    if Task.isCancelled || batches >= maxBatches { return }
                    let started = ContinuousClock.now
                    run = try await batch(run, catalogue: catalogue)
                    batches += 1
                    // Rests as long as the batch took: the run takes half the machine at most, so carts
                    // and checkouts beside it keep their pace (a weekly job has the time).
                    if run.finishedAt == nil { try await Task.sleep(for: (ContinuousClock.now - started) * Self.restFactor) }
                }
                logger.notice("replenishment run \(run.key): \(run.proposals) proposals for \(run.customers) customers")
            }
        } catch {
            logger.error("a replenishment run failed; it goes on at the next pass", metadata: ["error": "\(error)"])
        }
    }

    /// One batch: the next customers' due items, as proposals entering the flows, and the cursor moved.
    private func batch(_ run: ReplenishmentRun, catalogue: [String: ReplenishableSKU]) async throws -> ReplenishmentRun {
        let runAt = Timestamp.date(run.startedAt) ?? clock.now()
        let (customers, read, last) = try store.purchases(
            afterCustomer: run.cursor, limit: batchSize, of: Set(catalogue.keys),
            runsSince: Timestamp.string(runAt.addingTimeInterval(-Self.proposalLife)), now: clock.timestamp)
        let horizon = runAt.addingTimeInterval(Self.horizon)
        let stamp = clock.timestamp
        let expires = Timestamp.string(clock.now().addingTimeInterval(Self.proposalLife))
        var proposals: [(proposal: Proposal, customerSeq: Int64)] = []
        // A customer still answering last run's proposal is not sent a second one beside it (a run
        // late after a restart, or a schedule moved, can come sooner than a week after the last).
        for customer in customers where !customer.hasOpenProposal {
            let items = customer.items.compactMap { item -> ProposalItem? in
                guard let facts = catalogue[item.sku], facts.active,
                      let plan = ReplenishmentPlan.plan(item.purchases, productIntervalDays: facts.intervalDays) else { return nil }
                let due = max(plan.due, item.snoozedUntil.flatMap(Timestamp.date) ?? plan.due)
                // More than three intervals overdue, the customer has stopped buying it: not proposed every week for ever.
                guard due <= horizon, due >= runAt.addingTimeInterval(-Self.lapsedAfter * plan.intervalDays * 86_400) else { return nil }
                return ProposalItem(sku: item.sku, title: facts.title, quantity: plan.quantity, unitPrice: facts.price, dueAt: Timestamp.string(due))
            }
            guard !items.isEmpty else { continue }
            let proposal = Proposal(id: .makeOrdered(at: clock.milliseconds), customerID: customer.id, runKey: run.key, items: items, status: .open,
                                    orderID: nil, createdAt: stamp, decidedAt: nil, expiresAt: expires)
            proposals.append((proposal, customer.seq))
        }
        var next = run
        next.cursor = last ?? run.cursor
        next.customers += read
        if last == nil || read < batchSize { next.finishedAt = stamp }
        let (store, engine, made, moved) = (store, engine, proposals, next)
        return try await writer.write { transaction -> ReplenishmentRun in
            var saved = moved
            for (proposal, seq) in made where try store.insert(proposal, customerSeq: seq, in: transaction) {
                saved.proposals += 1
                try engine.enter(proposal, in: transaction)
            }
            try store.saveRun(saved, in: transaction)
            return saved
        }
    }

    // MARK: Products and proposals

    /// Sets a product's replenishment interval in days; `nil` takes it out of replenishment.
    public func setInterval(_ days: Int?, of product: ProductID) async throws {
        if let days { guard (1...730).contains(days) else { throw ValidationError(field: "interval_days", detail: "must be from 1 to 730") } }
        let store = store
        guard try await writer.write({ transaction in try store.setInterval(days, of: product, in: transaction) }) else {
            throw CatalogueError.productNotFound(product.rawValue)
        }
    }

    /// The proposal a link's token names.
    public func proposal(token: String) throws -> Proposal {
        guard let id = links.proposal(ofToken: token), let proposal = try store.proposal(id) else { throw ReplenishmentError.proposalNotFound }
        return proposal
    }

    /// Puts the proposal's items off for `days` (else ``defaultPostponeDays``); with `wishlist` they go
    /// on the customer's wishlist too, so a `back_in_stock` flow reminds them when one comes back in
    /// stock (available again after selling out) before then. Only an open proposal can be.
    public func postpone(token: String, days: Int?, wishlist: Bool) async throws -> Proposal {
        if let days { guard (1...365).contains(days) else { throw ValidationError(field: "days", detail: "must be from 1 to 365") } }
        guard let id = links.proposal(ofToken: token) else { throw ReplenishmentError.proposalNotFound }
        let (store, stock, engine, now) = (store, stock, engine, clock.now())
        let until = Timestamp.string(now.addingTimeInterval(Double(days ?? Self.defaultPostponeDays) * 86_400))
        return try await writer.write { transaction in
            guard var proposal = try store.proposal(id, in: transaction) else { throw ReplenishmentError.proposalNotFound }
            let status = proposal.status(at: Timestamp.string(now))
            guard status == .open else { throw ReplenishmentError.decided(status) }
            proposal.status = wishlist ? .wishlisted : .postponed
            proposal.decidedAt = Timestamp.string(now)
            var wishes: [String: Wish] = [:]
            for item in proposal.items {
                wishes[item.sku] = !wishlist ? Wish.none : (try stock.snapshot(of: item.sku, in: transaction)?.level.available ?? 0) > 0 ? .inStock : .soldOut
            }
            // Told before the commit, so no stock change after it goes unwatched.
            if wishlist { engine.watch(skus: Set(wishes.keys)) }
            try store.putOff(customer: proposal.customerID, skus: wishes, until: until, in: transaction)
            try store.update(proposal, in: transaction)
            return proposal
        }
    }

    /// Proposals by status, and what confirmed ones ordered.
    public func report() throws -> (counts: [ProposalStatus: Int], confirmedRevenue: Int64) {
        try store.report(at: clock.timestamp)
    }
}

/// Left in the transaction that started a weekly run: the runner wakes once it is durable.
struct RunStarted: Sendable {}

/// What replenishment refuses, mapped to problem+json in the API's one place.
public enum ReplenishmentError: Error, Equatable {
    case proposalNotFound
    /// The proposal was confirmed, postponed, wishlisted or has expired.
    case decided(ProposalStatus)
    /// Some items ran out since the proposal was made: nothing was ordered.
    case stockShort([CheckoutError.Shortage])
    /// The order cannot be made for the customer as they are (no email address).
    case cannotConfirm(String)
}
