public import Logging
import ShopfloorJSON
import Foundation
import Synchronization

/// Runs the shop's flows (API.md, Automation): enters runs when their trigger happens, wakes them on
/// their timers, tells them how their messages went, and ends them when an exit event happens.
///
/// **Triggers and exits come from the event log**, read past a durable mark as the webhook dispatcher
/// reads it: an order placed, an order delivered, a customer made, a cart expired, a shopper back on
/// the site, a wished-for SKU's stock changing, a message delivered. Each event's work is its own
/// write job (so one that fails is logged and does not hold up the rest) and the mark moves after
/// them; an event read again after a crash does nothing twice, since a flow enters once per entry key
/// and a run acts only on what it waits for.
///
/// **Abandonment is a timer per cart and flow**: the first write to a cart sets one at that write's
/// time plus the trigger's `after`; when it fires, a cart touched since is looked at again when it
/// will have been idle long enough, a shopper still live is looked at again a minute later, and
/// otherwise the run begins. So a busy cart costs one timer, not one write per change.
///
/// With no active flow and no run under way the engine is not woken by events at all (its mark moves
/// in memory), so the shop pays nothing for automation it does not use.
public final class FlowEngine: Sendable {
    static let runTimer = "run"
    static let idleTimer = "cart_idle"
    /// How long an abandonment check waits for a shopper still on the site before looking again.
    static let liveRecheck: Int64 = 60_000
    static let batchSize = 500

    private let store: any FlowStore
    private let carts: any CartStore
    private let orders: any OrderStore
    private let push: any PushSubscriptionStore
    private let wishlists: any ReplenishmentStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let scheduler: Scheduler
    private let live: LiveShoppers?
    private let clock: any WallClock
    private let logger: Logger
    private let currency: Currency
    /// How long a cart's reservations last: an expired cart was last touched that long before it expired.
    private let reservationTTL: Duration
    let executor: RunExecutor
    private let mark: Mutex<Int64>
    /// Parsed definitions by flow and version.
    private let definitions = Mutex<[String: FlowDefinition]>([:])
    /// The active flows as last read, with their current definitions (`nil` once they changed).
    private let cachedFlows = Mutex<(flows: [ActiveFlow]?, changes: Int)>((nil, 0))
    /// Whether events should wake the engine: an active flow or a run under way may need them.
    private let active = Atomic<Bool>(true)
    /// Abandonment timers known to be set, by flow and cart, so a busy cart's writes set none again.
    private let idleSet = Mutex<Set<String>>([])
    /// SKUs on a wishlist, whose stock changes `back_in_stock` flows follow: read from the store once a
    /// flow needs them, added to as customers wish (``watch(skus:)``).
    private let watched = Mutex<(loaded: Bool, skus: Set<String>)>((false, []))
    private let wakeups = Wakeups()

    public init(stores: Stores, events: EventLog, messages: MessageService, pricing: PricingService, live: LiveShoppers?, scheduler: Scheduler,
                currency: Currency, reservationTTL: Duration, shopName: String, publicURL: String, proposalLinks: ProposalLinks? = nil,
                clock: any WallClock,
                logger: Logger = Logger(label: "shopfloor.automation")) throws {
        store = stores.flows
        carts = stores.carts
        orders = stores.orders
        push = stores.push
        wishlists = stores.replenishment
        writer = stores.writer
        self.events = events
        self.scheduler = scheduler
        self.live = live
        self.clock = clock
        self.logger = logger
        self.currency = currency
        self.reservationTTL = reservationTTL
        executor = RunExecutor(
            flows: stores.flows, tasks: stores.tasks, carts: stores.carts, customers: stores.customers, orders: stores.orders, push: stores.push,
            pricingStore: stores.pricing, proposals: stores.replenishment, proposalLinks: proposalLinks, messages: messages, pricing: pricing, live: live, scheduler: scheduler, events: events, clock: clock,
            shopName: shopName, publicURL: publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL)
        let stored = try stores.flows.markedSeq()
        mark = Mutex(stored == 0 ? events.publishedSeq : stored)
        scheduler.register(Self.runTimer) { [weak self] timer, transaction in try self?.wake(RunID(rawValue: timer.ref), in: transaction) }
        scheduler.register(Self.idleTimer) { [weak self] timer, transaction in try self?.checkIdle(timer, in: transaction) }
    }

    // MARK: The event loop

    /// Reads events until cancelled, a pass after every published batch while anything is active.
    public func run() async {
        await wakeups.run(following: events, whenever: { [self] in active.load(ordering: .relaxed) }) { [self] in
            do {
                try await processPending()
            } catch {
                logger.error("reading events for automation failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Handles every event published so far: the engine's step, for tests.
    public func processPending() async throws {
        while true {
            let flows = try activeFlows()
            let published = events.publishedSeq
            let from = mark.withLock { $0 }
            if flows.isEmpty, try !store.hasActiveRuns() {
                mark.withLock { $0 = max($0, published) }
                active.store(false, ordering: .relaxed)
                // A flow made active meanwhile sets it again and wakes the loop.
                if try !activeFlows().isEmpty { active.store(true, ordering: .relaxed) }
                return
            }
            active.store(true, ordering: .relaxed)
            if !watched.withLock({ $0.loaded }), flows.contains(where: { $0.trigger == .backInStock }) {
                let skus = try wishlists.wishedSKUs()
                watched.withLock { $0 = (true, $0.skus.union(skus)) }
            }
            let batch = try events.read(since: from, through: published, topics: [], limit: Self.batchSize)
            guard let last = batch.last else { return }
            var jobs: [@Sendable (any WriteTransaction) throws -> Void] = batch.compactMap { job(for: $0, flows: flows) }
            let store = store
            jobs.append { transaction in try store.setMarkedSeq(last.seq, in: transaction) }
            let results = await writer.writeEach(jobs)
            for case .failure(let error) in results {
                logger.error("an automation step failed", metadata: ["error": "\(error)"])
            }
            mark.withLock { $0 = max($0, last.seq) }
            if batch.count < Self.batchSize { return }
        }
    }

    /// Follows the stock of SKUs a customer is putting on their wishlist.
    func watch(skus: Set<String>) {
        watched.withLock { $0.skus.formUnion(skus) }
    }

    /// Reads the flows again on the next pass: one was made, changed or removed.
    public func flowsChanged() {
        cachedFlows.withLock { cache in
            cache.flows = nil
            cache.changes += 1
        }
        active.store(true, ordering: .relaxed)
        wakeups.wake()
    }

    private func activeFlows() throws -> [ActiveFlow] {
        let (cached, changes) = cachedFlows.withLock { ($0.flows, $0.changes) }
        if let cached { return cached }
        let flows = try store.activeFlows().map { ActiveFlow(flow: $0, definition: try definition(of: $0.id, version: $0.version)) }
        cachedFlows.withLock { cache in
            if cache.changes == changes { cache.flows = flows }
        }
        return flows
    }

    /// The parsed definition of a flow's version.
    func definition(of flow: FlowID, version: Int) throws -> FlowDefinition {
        let key = "\(flow.rawValue)@\(version)"
        if let known = definitions.withLock({ $0[key] }) { return known }
        guard let document = try store.document(of: flow, version: version) else { throw AutomationError.flowNotFound(flow.rawValue) }
        let parsed = try FlowDefinition.parse(document, templates: Set(MessageTemplates.names), currency: currency)
        definitions.withLock { $0[key] = parsed }
        return parsed
    }

    // MARK: Events

    /// The work an event makes, if any.
    private func job(for event: Event, flows: [ActiveFlow]) -> (@Sendable (any WriteTransaction) throws -> Void)? {
        if event.topic.hasPrefix("cart:") { return cartJob(event, cart: CartID(rawValue: String(event.topic.dropFirst(5))), flows: flows) }
        switch event.type {
        case "order.placed", "order.status_changed":
            guard event.topic.hasPrefix("order:") else { return nil }
            let order = OrderID(rawValue: String(event.topic.dropFirst(6)))
            let delivered = event.type == "order.status_changed" && Self.member(event, "status") == "delivered"
            let wanted = flows.filter { $0.takes(event) && (event.type == "order.placed" ? $0.trigger == .orderPlaced : delivered && $0.trigger == .orderDelivered) }
                .map(\.flow)
            guard event.type == "order.placed" || !wanted.isEmpty else { return nil }
            return { [self] transaction in
                guard let placed = try orders.order(order, in: transaction) else { return }
                let customer = placed.customerID.map(CustomerID.init(rawValue:))
                if event.type == "order.placed" {
                    try exitRuns(customer: customer, cart: placed.cartID, on: .orderPlaced, excluding: order, seq: event.seq, in: transaction)
                }
                for flow in wanted {
                    try enter(flow, key: "order:\(order.rawValue)", customer: customer, cart: placed.cartID, order: order, since: event.seq,
                              in: transaction)
                }
            }
        case "customer.created":
            let wanted = flows.filter { $0.takes(event) && $0.trigger == .customerCreated }.map(\.flow)
            guard !wanted.isEmpty, let id = Self.member(event, "customer_id") else { return nil }
            let byOrder = Self.member(event, "source") == "order"
            return { [self] transaction in
                // A customer made by their first order: that order is the run's (its templates see it), so it does not end the run.
                let order = byOrder ? try orders.orders(.init(customerID: id), before: .max, limit: 1).first?.order.id : nil
                for flow in wanted {
                    try enter(flow, key: "customer:\(id)", customer: CustomerID(rawValue: id), cart: nil, order: order, since: event.seq,
                              in: transaction)
                }
            }
        case "shopper.joined":
            let customer = Self.member(event, "customer", "id").map(CustomerID.init(rawValue:))
            let cart = Self.member(event, "cart", "id").map(CartID.init(rawValue:))
            guard customer != nil || cart != nil else { return nil }
            return { [self] transaction in try exitRuns(customer: customer, cart: cart, on: .shopperLive, excluding: nil, seq: event.seq, in: transaction) }
        case "stock.changed":
            // A wished-for SKU: selling out arms its wishes, being available again with wishes armed reminds.
            // Parsed only for a wished-for SKU with a flow to enter: other stock changes cost a set lookup.
            guard event.topic.hasPrefix("stock:") else { return nil }
            let sku = String(event.topic.dropFirst(6))
            let wanted = flows.filter { $0.takes(event) && $0.trigger == .backInStock }.map(\.flow)
            guard !wanted.isEmpty, watched.withLock({ $0.skus.contains(sku) }),
                  case .integer(let available)? = Self.value(event, ["available"]) else { return nil }
            guard available > 0 else { return { [wishlists] transaction in try wishlists.soldOut(sku, in: transaction) } }
            return { [self] transaction in
                guard let wishes = try wishlists.takeWishes(for: sku, in: transaction) else { return }
                let product = RunProduct(id: wishes.product.rawValue, sku: sku, title: wishes.title)
                for customer in wishes.customers {
                    for flow in wanted {
                        try enter(flow, key: "stock:\(sku):\(event.seq):\(customer.rawValue)", customer: customer, cart: nil, order: nil,
                                  product: product, since: event.seq, in: transaction)
                    }
                }
            }
        case "message.sent", "message.failed", "message.skipped":
            guard let run = Self.member(event, "run_id"), let message = Self.member(event, "message_id") else { return nil }
            return { [self] transaction in
                guard var waiting = try store.run(RunID(rawValue: run), in: transaction), waiting.status == .active,
                      waiting.state.message == message else { return }
                try executor.advance(&waiting, try definition(of: waiting.flowID, version: waiting.version), in: transaction)
            }
        default:
            return nil
        }
    }

    /// A cart's event: sets abandonment timers, enters `cart.expired` flows, ends runs whose cart emptied.
    private func cartJob(_ event: Event, cart: CartID, flows: [ActiveFlow]) -> (@Sendable (any WriteTransaction) throws -> Void)? {
        let at = Timestamp.date(event.at)?.millisecondsSince1970 ?? clock.milliseconds
        let idle: [(flow: FlowID, due: Int64)] = flows.compactMap { active in
            guard let after = active.trigger.idleSeconds, active.takes(event),
                  idleSet.withLock({ $0.insert("\(active.flow.id.rawValue) \(cart.rawValue)").inserted }) else { return nil }
            return (active.flow.id, at + after * 1000)
        }
        let expired = event.type == "cart.expired" ? flows.filter { $0.takes(event) && $0.trigger == .cartExpired }.map(\.flow) : []
        let removal = event.type == "cart.line_removed"
        guard !idle.isEmpty || !expired.isEmpty || removal else { return nil }
        return { [self] transaction in
            for (flow, due) in idle {
                try scheduler.scheduleIfAbsent(Self.idleTimer, key: "idle:\(flow.rawValue):\(cart.rawValue)", ref: "\(flow.rawValue) \(cart.rawValue)",
                                               at: due, in: transaction)
            }
            if removal, try carts.cart(cart, in: transaction)?.lines.isEmpty ?? false {
                try exitRuns(customer: nil, cart: cart, on: .cartEmptied, excluding: nil, seq: event.seq, in: transaction)
            }
            guard !expired.isEmpty, let found = try carts.cart(cart, in: transaction), !found.lines.isEmpty else { return }
            for flow in expired {
                try enter(flow, key: "cart:\(cart.rawValue)", customer: found.customerID.map(CustomerID.init(rawValue:)), cart: cart, order: nil,
                          since: event.seq, in: transaction)
            }
        }
    }

    /// Ends the active runs of the customer or cart whose flows exit on `exit`.
    private func exitRuns(customer: CustomerID?, cart: CartID?, on exit: FlowExit, excluding order: OrderID?, seq: Int64,
                          in transaction: any WriteTransaction) throws {
        for var run in try store.activeRuns(customer: customer, cart: cart, in: transaction) where order == nil || run.orderID != order {
            // An event from before the run began (the order that made its customer) does not end it.
            if let since = run.state.since, seq <= since { continue }
            guard try definition(of: run.flowID, version: run.version).exitOn.contains(exit) else { continue }
            try executor.exit(&run, reason: exit.rawValue, in: transaction)
        }
    }

    // MARK: Entries and timers

    /// Enters the flow for `key` unless it already has a run for it, and runs the first steps.
    /// `since` is the seq of the event that started it (else the last published), so that only later
    /// events end it.
    func enter(_ flow: Flow, key: String, customer: CustomerID?, cart: CartID?, order: OrderID?, proposal: ProposalID? = nil,
               product: RunProduct? = nil, since: Int64? = nil, in transaction: any WriteTransaction) throws {
        let definition = try definition(of: flow.id, version: flow.version)
        let stamp = clock.timestamp
        var run = FlowRun(id: .make(), flowID: flow.id, version: flow.version, entryKey: key, status: .active, customerID: customer, cartID: cart,
                          orderID: order, state: RunState(position: definition.start), nextAt: nil, exitReason: nil, enteredAt: stamp,
                          updatedAt: stamp)
        run.state.proposal = proposal?.rawValue
        run.state.product = product
        run.state.since = since ?? events.publishedSeq
        run.state.record(stamp, step: nil, "entered", key)
        guard try store.insert(run, in: transaction) else { return }
        try store.count("entered", flow: flow.id, step: "", amount: 1, in: transaction)
        if let start = definition.start { try store.count("entered", flow: flow.id, step: FlowDefinition.name(of: start), amount: 1, in: transaction) }
        try executor.advance(&run, definition, in: transaction)
    }

    /// A weekly run's proposal: enters every active `replenishment.due` flow, in the run's transaction.
    func enter(_ proposal: Proposal, in transaction: any WriteTransaction) throws {
        for active in try activeFlows() where active.trigger == .replenishmentDue {
            try enter(active.flow, key: "proposal:\(proposal.id.rawValue)", customer: proposal.customerID, cart: nil, order: nil,
                      proposal: proposal.id, in: transaction)
        }
    }

    /// A run's timer: its wait ended, or its message's deadline passed.
    private func wake(_ id: RunID, in transaction: any WriteTransaction) throws {
        guard var run = try store.run(id, in: transaction), run.status == .active else { return }
        try executor.advance(&run, try definition(of: run.flowID, version: run.version), in: transaction)
    }

    /// An abandonment timer: enters the flow if the cart still has lines, has stayed untouched for
    /// the trigger's `after`, and its shopper is not on the site; else looks again when it may be.
    private func checkIdle(_ timer: ScheduledTimer, in transaction: any WriteTransaction) throws {
        let parts = timer.ref.split(separator: " ")
        guard parts.count == 2 else { return }
        let flowID = FlowID(rawValue: String(parts[0]))
        let cartID = CartID(rawValue: String(parts[1]))
        let key = timer.ref
        var rescheduled = false
        defer { if !rescheduled { _ = idleSet.withLock { $0.remove(key) } } }
        guard let active = try activeFlows().first(where: { $0.flow.id == flowID }), let after = active.trigger.idleSeconds,
              let cart = try carts.cart(cartID, in: transaction), cart.status == .active || cart.status == .expired,
              !cart.lines.isEmpty else { return }
        switch active.trigger {
        case .cartAbandoned(_, let channel) where channel != cart.channel: return
        case .checkoutAbandoned where cart.channel != .online || cart.checkoutStep == "cart" || (cart.email == nil && cart.customerID == nil): return
        default: break
        }
        let now = clock.milliseconds
        let idleFrom = lastTouched(cart, now: now) + after * 1000
        let customer = cart.customerID.map(CustomerID.init(rawValue:))
        let retryAt: Int64? = if idleFrom > now {
            idleFrom
        } else if cart.channel == .online, live?.isLive(customer: customer, cart: cartID) == true {
            now + Self.liveRecheck
        } else {
            nil
        }
        if let retryAt {
            rescheduled = true
            try scheduler.schedule(Self.idleTimer, key: timer.key, ref: timer.ref, at: retryAt, in: transaction)
            return
        }
        // A sale parked at a till is the staff's to finish (a `task` step), whoever it is for.
        let reachable = try cart.channel == .pos || customer != nil || cart.email != nil || cart.phone != nil
            || push.latest(customer: nil, cart: cartID, in: transaction) != nil
        guard reachable else { return }
        try enter(active.flow, key: "cart:\(cartID.rawValue)", customer: customer, cart: cartID, order: nil, in: transaction)
    }

    // MARK: Helpers

    /// When the shopper last changed the cart: its `updated_at`, except that expiring is not a change
    /// of theirs (an expired cart was last touched one reservation lifetime before it expired).
    private func lastTouched(_ cart: Cart, now: Int64) -> Int64 {
        let updated = Timestamp.date(cart.updatedAt)?.millisecondsSince1970 ?? now
        guard cart.status == .expired, let expires = Timestamp.date(cart.expiresAt) else { return updated }
        return min(updated, expires.millisecondsSince1970 - Int64(reservationTTL.seconds * 1000))
    }

    /// A string member of an event's data, by its path of keys.
    private static func member(_ event: Event, _ path: String...) -> String? {
        if case .string(let text)? = value(event, path) { return text }
        return nil
    }

    /// A member of an event's data, by its path of keys.
    private static func value(_ event: Event, _ path: [String]) -> JSONValue? {
        guard var value = try? JSONParser.parse(Array(event.data.utf8)) else { return nil }
        for key in path {
            guard case .object(let members, _) = value, let next = members[key] else { return nil }
            value = next
        }
        return value
    }
}

/// An active flow with the definition of its current version.
struct ActiveFlow: Sendable {
    var flow: Flow
    var definition: FlowDefinition
    var trigger: FlowTrigger { definition.trigger }

    /// Whether the event came after the flow was made active (a draft's time enters nothing).
    func takes(_ event: Event) -> Bool { event.seq > flow.activeSince }
}
