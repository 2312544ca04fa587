import Foundation
import ShopfloorCrypto

/// Moves a flow run through its steps, inside the writer transaction of whatever woke it (its entry,
/// its timer, its message's delivery, an exit), until it has to wait: for a `wait` to end, or for a
/// `send` to be delivered. Every effect of a step (a message queued, a code issued, a task made) and
/// the run's new position commit together, and its next timer with them, so a step is never done
/// twice and never skipped, whatever crashes when.
struct RunExecutor: Sendable {
    let flows: any FlowStore
    let tasks: any TaskStore
    let carts: any CartStore
    let customers: any CustomerStore
    let orders: any OrderStore
    let push: any PushSubscriptionStore
    let pricingStore: any PricingStore
    let proposals: any ReplenishmentStore
    let proposalLinks: ProposalLinks?
    let messages: MessageService
    let pricing: PricingService
    let live: LiveShoppers?
    let scheduler: Scheduler
    let events: EventLog
    var reach: Reach { Reach(messages: messages, push: push, pricing: pricing) }
    let clock: any WallClock
    let shopName: String
    let publicURL: String

    /// Steps one run may take in one go; more means a flow of branches that loops on nothing.
    static let maxStepsPerAdvance = 200
    /// How long a step whose message is being sent as its deadline passes waits to hear how it went.
    static let inFlightRecheck: Int64 = 30_000

    static func timerKey(_ run: RunID) -> String { "run:\(run.rawValue)" }

    // MARK: Advancing

    /// Runs `run` from where it stands until it waits, completes or exits, and stores it.
    func advance(_ run: inout FlowRun, _ definition: FlowDefinition, in transaction: any WriteTransaction) throws {
        guard run.status == .active else { return }
        let now = clock.now()
        let milliseconds = now.millisecondsSince1970
        let stamp = Timestamp.string(now)
        var wake: Int64?
        if let reason = try exitReason(run, definition, in: transaction) {
            return try exit(&run, reason: reason, in: transaction)
        }
        var taken = 0
        stepping: while taken < Self.maxStepsPerAdvance {
            taken += 1
            guard let path = run.state.position, let step = definition.step(at: path) else {
                run.status = .completed
                run.state.record(stamp, step: nil, "completed")
                break
            }
            switch step {
            case .wait(let seconds):
                let resume = run.state.resumeAt ?? milliseconds + seconds * 1000
                if milliseconds >= resume, run.state.resumeAt != nil {
                    try move(&run, to: definition.next(after: path), definition, in: transaction)
                    continue
                }
                if run.state.resumeAt == nil { run.state.record(stamp, step: path, "waiting", "until \(Timestamp.string(Date(milliseconds: resume)))") }
                run.state.resumeAt = resume
                wake = resume
                break stepping
            case .send(let send):
                if let until = try self.send(send, at: path, &run, definition, now: now, in: transaction) {
                    wake = until
                    break stepping
                }
            case .offer(let offer):
                try issue(offer, at: path, &run, now: now, in: transaction)
                try move(&run, to: definition.next(after: path), definition, in: transaction)
            case .branch(let condition, _, _):
                let matched = try holds(condition, for: run, now: now, in: transaction)
                run.state.record(stamp, step: path, matched ? "then" : "else")
                try move(&run, to: definition.enter(branch: matched ? 0 : 1, at: path), definition, in: transaction)
            case .split(let variants):
                let chosen = Self.pick(variants.map(\.weight))
                run.state.record(stamp, step: path, "variant", String(chosen))
                try move(&run, to: definition.enter(branch: chosen, at: path), definition, in: transaction)
            case .task(let text):
                try makeTask(text, &run, at: path, in: transaction)
                try move(&run, to: definition.next(after: path), definition, in: transaction)
            }
        }
        try store(&run, wake: wake, in: transaction)
    }

    /// Whether an `if` holds for the run now: its customer in the segment (no customer: no), its last
    /// message taken as asked (none sent: not opened), its proposal in the status asked.
    private func holds(_ condition: FlowCondition, for run: FlowRun, now: Date, in transaction: any WriteTransaction) throws -> Bool {
        switch condition {
        case .segment(let filter):
            return try run.customerID.map { try customers.matches(filter.resolved(now: now), customer: $0, in: transaction) } ?? false
        case .message(let engagement):
            let last = try run.state.lastMessage.flatMap { try messages.message(MessageID(rawValue: $0), in: transaction) }
            switch engagement {
            case .notOpened: return last?.openedAt == nil
            case .openedNotClicked: return last?.openedAt != nil && last?.clickedAt == nil
            case .clicked: return last?.clickedAt != nil
            }
        case .proposal(let status):
            guard let id = run.state.proposal, let proposal = try proposals.proposal(ProposalID(rawValue: id), in: transaction) else { return false }
            return proposal.status(at: Timestamp.string(now)) == status
        }
    }

    /// Ends the run early for `reason`: its timer goes, and messages it queued that have not gone yet
    /// are skipped (`flow_exited`).
    func exit(_ run: inout FlowRun, reason: String, in transaction: any WriteTransaction) throws {
        guard run.status == .active else { return }
        run.status = .exited
        run.exitReason = reason
        run.state.record(clock.timestamp, step: run.state.position, "exited", reason)
        for (message, retryBase) in try messages.queued(run: run.id, in: transaction) {
            try messages.skip(message, retryBase: retryBase, reason: "flow_exited", in: transaction)
        }
        try flows.count("exited", flow: run.flowID, step: run.state.position.map(FlowDefinition.name(of:)) ?? "", amount: 1, in: transaction)
        try store(&run, wake: nil, in: transaction)
    }

    /// Why the run should end now, read from the store and presence (so an exit is seen even before
    /// its event reaches the engine): the shopper ordered, came back, or emptied the cart.
    func exitReason(_ run: FlowRun, _ definition: FlowDefinition, in transaction: any WriteTransaction) throws -> String? {
        if definition.exitOn.contains(.orderPlaced), run.customerID != nil || run.cartID != nil,
           try flows.ordered(customer: run.customerID, cart: run.cartID, since: run.enteredAt, excluding: run.orderID, in: transaction) {
            return FlowExit.orderPlaced.rawValue
        }
        if definition.exitOn.contains(.shopperLive), let live, live.isLive(customer: run.customerID, cart: run.cartID) {
            return FlowExit.shopperLive.rawValue
        }
        if definition.exitOn.contains(.cartEmptied), let cart = run.cartID, try carts.cart(cart, in: transaction)?.lines.isEmpty ?? true {
            return FlowExit.cartEmptied.rawValue
        }
        return nil
    }

    /// Puts the run on `path` (or completes it), counting the step entered.
    private func move(_ run: inout FlowRun, to path: [Int]?, _ definition: FlowDefinition, in transaction: any WriteTransaction) throws {
        run.state.position = path
        run.state.resumeAt = nil
        run.state.channel = 0
        run.state.message = nil
        run.state.deadline = nil
        if let path { try flows.count("entered", flow: run.flowID, step: FlowDefinition.name(of: path), amount: 1, in: transaction) }
    }

    /// Saves the run and sets (or clears) its timer.
    private func store(_ run: inout FlowRun, wake: Int64?, in transaction: any WriteTransaction) throws {
        run.updatedAt = clock.timestamp
        run.nextAt = run.status == .active ? wake.map { Timestamp.string(Date(milliseconds: $0)) } : nil
        try flows.update(run, awaiting: run.status == .active ? run.state.message.map(MessageID.init(rawValue:)) : nil, in: transaction)
        if run.status == .active, let wake {
            try scheduler.schedule(FlowEngine.runTimer, key: Self.timerKey(run.id), ref: run.id.rawValue, at: wake, in: transaction)
        } else {
            try scheduler.cancel(Self.timerKey(run.id), in: transaction)
        }
    }

    // MARK: Send

    /// Works a `send` step: hears how its message went, or queues it on the first channel that can
    /// take it. Returns when to look again (the message's deadline), or `nil` once the run moved on.
    private func send(_ send: SendStep, at path: [Int], _ run: inout FlowRun, _ definition: FlowDefinition, now: Date,
                      in transaction: any WriteTransaction) throws -> Int64? {
        let stamp = Timestamp.string(now)
        let milliseconds = now.millisecondsSince1970
        if let id = run.state.message {
            let message = try messages.message(MessageID(rawValue: id), in: transaction)
            switch message?.status {
            case .sent?, .delivered?, .opened?, .clicked?:
                try move(&run, to: definition.next(after: path), definition, in: transaction)
                return nil
            case .queued?, .sending?:
                let deadline = run.state.deadline ?? milliseconds
                if milliseconds < deadline { return deadline }
                guard let message, run.state.channel + 1 < send.channels.count else {
                    // The last channel: nothing to fall back to, so the message stays queued and the run goes on.
                    run.state.record(stamp, step: path, "moved on", "\(send.channels[run.state.channel].rawValue) not delivered yet")
                    try move(&run, to: definition.next(after: path), definition, in: transaction)
                    return nil
                }
                if let stored = try messages.queued(run: run.id, in: transaction).first(where: { $0.message.id == message.id }),
                   try !messages.skip(stored.message, retryBase: stored.retryBase, reason: "timed_out", in: transaction) {
                    // Being sent right now: its outcome decides, not the clock.
                    return milliseconds + Self.inFlightRecheck
                }
                run.state.record(stamp, step: path, "passed over", "\(message.channel.rawValue): not delivered in time")
            case .failed?, .skipped?, nil:
                run.state.record(stamp, step: path, "passed over",
                                 "\(send.channels[run.state.channel].rawValue): \(message?.skipReason ?? message?.lastError ?? "undelivered")")
            }
            run.state.channel += 1
            run.state.message = nil
            run.state.deadline = nil
        }
        let customer = try run.customerID.flatMap { try customers.customer($0, in: transaction) }
        let cart = try run.cartID.flatMap { try carts.cart($0, in: transaction) }
        while run.state.channel < send.channels.count {
            let channel = send.channels[run.state.channel]
            let last = run.state.channel == send.channels.count - 1
            func passOver(_ why: String) {
                run.state.record(stamp, step: path, "passed over", "\(channel.rawValue): \(why)")
                run.state.channel += 1
            }
            guard messages.isAvailable(channel) else {
                passOver("channel_unavailable")
                continue
            }
            let proposalURL = run.state.proposal.flatMap { id in proposalLinks?.url(for: ProposalID(rawValue: id)) }
            let productURL = run.state.product.map(productURL)
            guard let (recipient, link) = try reach.recipient(channel, customer: customer, cart: cart,
                                                             link: cart.map(cartURL) ?? proposalURL ?? productURL,
                                                             in: transaction) else {
                passOver("no_recipient")
                continue
            }
            var draft = MessageService.Draft(
                channel: channel, recipient: recipient, template: send.template, locale: customer?.locale,
                data: try data(run, customer: customer, cart: cart, in: transaction), link: link, customerID: customer?.id.rawValue,
                orderID: run.orderID, transactional: send.transactional,
                origin: MessageOrigin(flowID: run.flowID, runID: run.id, step: FlowDefinition.name(of: path)))
            if let refusal = try messages.refusal(of: draft, in: transaction) {
                passOver(refusal)
                continue
            }
            var at = now
            if !send.transactional {
                let (earliest, hold) = try reach.earliest(channel, to: customer, now: now, in: transaction)
                if let hold, !last, earliest.timeIntervalSince(now) > Double(send.window) {
                    passOver("\(hold.rawValue) until \(Timestamp.string(earliest))")
                    continue
                }
                if let hold { run.state.record(stamp, step: path, "deferred", "\(channel.rawValue): \(hold.rawValue) until \(Timestamp.string(earliest))") }
                at = earliest
            }
            draft.notBefore = at
            let message = try messages.queue(draft, in: transaction)
            guard message.status == .queued else {
                passOver(message.skipReason ?? "skipped")
                continue
            }
            run.state.record(stamp, step: path, "queued", "\(channel.rawValue) \(message.id.rawValue)")
            run.state.message = message.id.rawValue
            run.state.lastMessage = message.id.rawValue
            let deadline = at.millisecondsSince1970 + send.timeout * 1000
            run.state.deadline = deadline
            return deadline
        }
        run.state.record(stamp, step: path, "not sent", "no channel could take it")
        try flows.count("unsent", flow: run.flowID, step: FlowDefinition.name(of: path), amount: 1, in: transaction)
        try move(&run, to: definition.next(after: path), definition, in: transaction)
        return nil
    }

    private func cartURL(_ cart: Cart) -> String { "\(publicURL)/shop/?cart=\(cart.id.rawValue)" }
    private func productURL(_ product: RunProduct) -> String { "\(publicURL)/shop/?product=\(product.id)" }

    /// What a flow's templates can show: the shop, the customer's first name, the cart with its lines
    /// (as they stand now) and its link, the order that started the run, the proposal or the product
    /// back in stock it is about, and the run's offer.
    private func data(_ run: FlowRun, customer: Customer?, cart: Cart?, in transaction: any WriteTransaction) throws -> [String: Any] {
        var data: [String: Any] = ["shop": ["name": shopName], "customer": customer?.firstName.map { ["first_name": $0] } ?? [String: Any]()]
        if let cart {
            data["cart"] = [
                "lines": cart.lines.map { ["title": $0.title, "sku": $0.sku, "quantity": $0.quantity, "line_total": $0.lineTotal.displayText] },
                "total": cart.totals.total.displayText,
            ] as [String: Any]
            data["cart_url"] = cartURL(cart)
        }
        if let id = run.orderID, let order = try orders.order(id, in: transaction) {
            data["order"] = ["number": order.number, "total": order.totals.total.displayText] as [String: Any]
            data["tracking_url"] = "\(publicURL)/v1/track/\(order.trackingToken)"
        }
        if let id = run.state.proposal, let proposal = try proposals.proposal(ProposalID(rawValue: id), in: transaction) {
            data["items"] = proposal.items.map { ["title": $0.title, "sku": $0.sku, "quantity": $0.quantity, "unit_price": $0.unitPrice.displayText] }
            data["proposal_url"] = proposalLinks?.url(for: proposal.id)
        }
        if let product = run.state.product {
            data["product"] = ["title": product.title, "sku": product.sku]
            data["product_url"] = productURL(product)
        }
        if let offer = run.state.offer {
            data["offer"] = ["code": offer.code, "text": offer.text, "expires_at": String(offer.expiresAt.prefix(10))]
        }
        return data
    }

    // MARK: Offer, task, split

    /// Makes the `offer` step's single-use code, bound to the run's cart when it has one (the cart the
    /// message leads back to: its id is the capability), else to its customer (then used on a cart
    /// their own session or staff named them on).
    private func issue(_ offer: OfferStep, at path: [Int], _ run: inout FlowRun, now: Date, in transaction: any WriteTransaction) throws {
        let expiresAt = Timestamp.string(now.addingTimeInterval(Double(offer.expiresIn)))
        let discount = Discount(
            id: .make(), code: "FLOW-" + SecureRandom.base32(8).uppercased(), kind: offer.kind, value: offer.value, currency: offer.currency,
            customerID: run.cartID == nil ? run.customerID?.rawValue : nil, minSubtotal: nil, maxUses: 1, maxUsesPerCustomer: nil, startsAt: nil,
            endsAt: expiresAt, disabled: false, uses: 0, createdAt: Timestamp.string(now), cartID: run.cartID?.rawValue)
        try pricingStore.insertIssued(discount, for: "run:\(run.id.rawValue)", in: transaction)
        run.state.offer = IssuedOffer(code: discount.code!, text: OrderMessages.words(discount), expiresAt: expiresAt)
        run.state.record(Timestamp.string(now), step: path, "offer", discount.code)
    }

    /// Makes the `task` step's task for staff, on topic `tasks`.
    private func makeTask(_ text: String, _ run: inout FlowRun, at path: [Int], in transaction: any WriteTransaction) throws {
        let stamp = clock.timestamp
        let task = StaffTask(id: .make(), text: text, status: .open, customerID: run.customerID, orderID: run.orderID, flowID: run.flowID,
                             runID: run.id, createdAt: stamp, doneAt: nil, doneBy: nil)
        try tasks.insert(task, in: transaction)
        try TaskService.appendEvent("task.created", for: task, to: events, in: transaction)
        run.state.record(stamp, step: path, "task", task.id.rawValue)
    }

    /// A variant drawn with chance proportional to its weight.
    static func pick(_ weights: [Int]) -> Int {
        var draw = Int.random(in: 0..<weights.reduce(0, +))
        for (index, weight) in weights.enumerated() {
            if draw < weight { return index }
            draw -= weight
        }
        return weights.count - 1
    }
}

extension Date {
    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
