public import Foundation
import ShopfloorJSON
import Synchronization

/// A storefront socket of one visitor, as presence sees it: where messages and offers for that
/// visitor go. The API's event channel is one.
public protocol ShopperConnection: AnyObject, Sendable {
    var connectionID: UInt64 { get }
    func deliver(_ delivery: ShopperDelivery)
}

/// What the shop sends a live shopper's sockets.
public enum ShopperDelivery: Sendable {
    case message(conversation: ConversationID, from: ConversationMessage.Sender, text: String, at: String)
    case offer(conversation: ConversationID, offer: Offer)
}

/// Who is on the shop now (API.md, Live shoppers): one visit per visitor over any number of sockets,
/// what they look at, their cart and checkout step, and their stage; each change a `shoppers` event.
///
/// Two views of the same visits: the *current* one, where ops are decided (under one lock, so a
/// visitor's changes are queued to the writer in the order they were decided), and the *published*
/// one, which `GET /v1/shoppers/live` reads. A change reaches the published view from its own commit
/// (a note in the write's transaction, applied once the commit is on disk, after the event log has
/// published it), so a snapshot holds exactly the `shoppers` events up to the seq it carries: an admin
/// who subscribes with `since` set to it misses nothing and sees nothing twice.
///
/// A visitor whose sockets have all closed stays for ``grace`` (a reload does not leave and join
/// again), then leaves. Time-driven changes (the grace, stages that change with time) are found by
/// ``tick()``, which the server calls every second.
public final class LiveShoppers: Sendable {
    /// Seconds a visitor without sockets stays before `shopper.left`.
    public static let grace: TimeInterval = 10

    private struct Tab {
        let connection: any ShopperConnection
        var hidden = false
    }

    private struct Visit {
        var entry: ShopperEntry
        var tabs: [UInt64: Tab] = [:]
        var customer: CustomerID?
        var cart: CartID?
        var lines = 0
        var lastActive: Date
        var hiddenSince: Date?
        var goneAt: Date?
        /// The stage last written to the visitor's row (segments read it).
        var storedStage: ShopperStage
    }

    private struct State {
        var visits: [VisitorID: Visit] = [:]
        var byConnection: [UInt64: VisitorID] = [:]
        var byCart: [Substring: VisitorID] = [:]
        /// Each live visitor's entry as its last event wrote it (JSON), with when the visit began.
        var published: [VisitorID: PublishedEntry] = [:]
        /// The last event seq whose commit the published view has taken in.
        var publishedSeq: Int64 = 0
    }

    /// A change for the published view, left in its write's transaction right after its event,
    /// whose data is the entry as published.
    private struct Published: Sendable {
        var visitor: VisitorID
        /// When the visit began; `nil`: the visitor left.
        var since: String?
    }

    let stats: LiveStats
    private let store: any ShopperStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let carts: CartService
    private let catalogue: CatalogueService
    private let customers: CustomerService
    private let orders: any OrderStore
    private let pricing: PricingService
    private let currency: Currency
    private let clock: any WallClock
    private let state = Mutex(State())
    /// What a view needs of a product (title, category), by id; a `product:` event drops its entry.
    private let products = Mutex<[ProductID: ViewedProduct]>([:])
    /// Cart events the stats have not taken in yet.
    private let inbox = Mutex<[Event]>([])

    public init(stores: Stores, events: EventLog, carts: CartService, catalogue: CatalogueService, customers: CustomerService,
                pricing: PricingService, currency: Currency, clock: any WallClock) {
        store = stores.shoppers
        writer = stores.writer
        orders = stores.orders
        self.events = events
        self.carts = carts
        self.catalogue = catalogue
        self.customers = customers
        self.pricing = pricing
        self.clock = clock
        self.currency = currency
        stats = LiveStats(currency: currency, clock: clock)
        state.withLock { $0.publishedSeq = events.publishedSeq }
        stores.writer.observeCommits { [weak self] transaction in self?.collect(transaction) }
        _ = events.subscribe { [weak self] event in self?.observe(event) }
    }

    /// Loads what the stats start from (the active carts and today's orders), and writes the
    /// `shopper.left` that a server which stopped with visitors live never wrote: no socket outlives
    /// the process, so nobody is live at start.
    public func start() async throws {
        let (day, start) = today()
        let placed = try orders.placed(since: start, currency: currency)
        stats.load(activeCarts: try store.activeCarts(), day: day, ordersToday: placed.count, revenueToday: placed.total)
        let stranded = try store.liveVisitors()
        guard !stranded.isEmpty else { return }
        let (store, events) = (store, events)
        try await writer.write { transaction in
            for id in stranded { try Self.left(id, store: store, events: events, in: transaction) }
        }
    }

    /// Deletes activity older than `age`, as the event log is pruned; returns how many actions went.
    @discardableResult
    public func pruneActivity(olderThan age: Duration) async throws -> Int {
        let cutoff = Timestamp.string(clock.now().addingTimeInterval(-age.seconds))
        return try await writer.write { [store] transaction in try store.pruneActivity(before: cutoff, in: transaction) }
    }

    // MARK: Reads

    /// The live visitors as of event `seq`, longest here first: each entry as the JSON of its last
    /// event, so a list of thousands is written by copying, not encoded again per request.
    public func snapshot() -> (items: [String], seq: Int64) {
        let (published, seq) = state.withLock { ($0.published, $0.publishedSeq) }
        return (published.sorted { ($0.value.since, $0.key.rawValue) < ($1.value.since, $1.key.rawValue) }.map(\.value.json), seq)
    }

    /// Whether the visitor has a socket open now, with the customer and cart presence knows of.
    public func visit(_ id: VisitorID) -> (live: Bool, customer: CustomerID?, cart: CartID?)? {
        state.withLock { state in state.visits[id].map { (!$0.tabs.isEmpty, $0.customer, $0.cart) } }
    }

    /// Whether the shopper with this cart, or this customer, has a socket open now: an abandonment
    /// reminder waits while they are on the site.
    public func isLive(customer: CustomerID?, cart: CartID?) -> Bool {
        state.withLock { state in
            if let cart, let visitor = state.byCart[Substring(cart.rawValue)], state.visits[visitor]?.tabs.isEmpty == false { return true }
            guard let customer else { return false }
            return state.visits.values.contains { $0.customer == customer && !$0.tabs.isEmpty }
        }
    }

    /// The visitor a socket said hello as.
    public func visitor(on connection: UInt64) -> VisitorID? {
        state.withLock { $0.byConnection[connection] }
    }

    /// Hands `delivery` to every socket of the visitor; `false` when none is open.
    @discardableResult
    public func deliver(_ delivery: ShopperDelivery, to id: VisitorID) -> Bool {
        let tabs = state.withLock { $0.visits[id].map { Array($0.tabs.values.map(\.connection)) } ?? [] }
        for connection in tabs { connection.deliver(delivery) }
        return !tabs.isEmpty
    }

    // MARK: Ops

    /// `hello` on `connection`: joins the visitor (a new one when `requested` is absent or unknown),
    /// or tells presence of a cart made since or of a sign-in. Returns the visitor once its row and
    /// event are durable.
    public func hello(_ connection: any ShopperConnection, visitor requested: VisitorID?, customer signedIn: CustomerID?,
                      cart cartID: CartID?) async throws -> VisitorID {
        let now = clock.now()
        let stamp = Timestamp.string(now)
        let (onSocket, liveRequested) = state.withLock { state in
            (state.byConnection[connection.connectionID], requested.map { state.visits[$0] != nil } ?? false)
        }
        if let onSocket, let requested, requested != onSocket {
            throw ValidationError(field: "visitor", detail: "this socket said hello as \(onSocket); open another socket for another visitor")
        }
        var id = onSocket ?? requested
        var stored: VisitorRecord?
        var isNew = false
        if onSocket == nil && !liveRequested {
            if let candidate = id, let record = try store.visitor(candidate) {
                stored = record
            } else {
                id = .make()
                isNew = true
            }
        }
        guard let id else { preconditionFailure("a visitor id was chosen above") }
        let cart = try cartID.map { cartID in
            guard let cart = try carts.cart(cartID) else { throw ValidationError(field: "cart", detail: "names no cart") }
            return cart
        }
        let known = signedIn ?? stored?.customerID
        let identity = try identify(known: known, cart: cart)
        return try await withCheckedThrowingContinuation { continuation in
            state.withLock { state in
                var visit = state.visits[id] ?? Visit(
                    entry: ShopperEntry(visitor: id, customer: nil, since: stamp, lastActiveAt: stamp, page: nil, product: nil, hidden: false,
                                        cart: nil, checkoutStep: nil, stage: .browsing, sockets: 0),
                    lastActive: now, storedStage: stored?.stage ?? .browsing)
                let joining = state.visits[id] == nil
                var linkTo: CustomerID?
                if let identity, identity.id != visit.customer {
                    linkTo = identity.id
                    visit.customer = identity.id
                    visit.entry.customer = identity.entry
                } else if visit.customer == nil, let stored = stored?.customerID {
                    visit.customer = stored
                }
                if let cart { adopt(cart, into: &visit, state: &state) }
                if visit.tabs[connection.connectionID] == nil { visit.tabs[connection.connectionID] = Tab(connection: connection) }
                state.byConnection[connection.connectionID] = id
                visit.goneAt = nil
                visit.lastActive = now
                visit.entry.lastActiveAt = stamp
                update(&visit, now: now)
                let type = joining ? "shopper.joined" : "shopper.updated"
                let stage = visit.entry.stage
                let stageChanged = isNew || stage != visit.storedStage
                visit.storedStage = stage
                let (entry, linking, inserting) = (visit.entry, linkTo, isNew)
                state.visits[id] = visit
                stats.setVisitorsNow(state.visits.count)
                let (store, events) = (store, events)
                writer.submit({ transaction in
                    if inserting { try store.insertVisitor(id, at: stamp, in: transaction) }
                    if joining { try store.setLive(true, of: id, in: transaction) }
                    if let linking { try store.link(id, to: linking, in: transaction) }
                    if stageChanged { try store.setStage(stage, of: id, at: stamp, in: transaction) }
                    try Self.append(type, entry, to: events, in: transaction)
                }, completion: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: id) }
                })
            }
        }
    }

    /// Records what a visitor did: from one of its sockets (`connection`), or without one
    /// (`POST /v1/activity`, when `connection` is `nil`: hidden and visible then apply to every tab),
    /// each action at the time reported (never later than now) or now. A visitor who is not live has
    /// it stored, with no `shoppers` event; one never seen is ``ShopperError/unknownVisitor(_:)``.
    /// Returns once durable; does nothing when the shop has tracking off.
    public func track(_ actions: [ReportedActivity], visitor id: VisitorID, connection: UInt64?) async throws {
        // A visitor who is not live must have been seen: its row also says which customer it is.
        let offline = state.withLock { $0.visits[id] == nil }
        var storedCustomer: CustomerID?
        if offline {
            guard let record = try store.visitor(id) else { throw ShopperError.unknownVisitor(id.rawValue) }
            storedCustomer = record.customerID
        }
        let settings = pricing.rules.settings
        guard settings.activityTracking, !actions.isEmpty else { return }
        let rules = settings.stageRules
        let now = clock.now()
        var products: [ProductID: ViewedProduct] = [:]
        for productID in actions.compactMap(\.activity.productID) where products[productID] == nil {
            products[productID] = try viewed(productID)
        }
        for activity in actions.map(\.activity) {
            if let product = activity.productID.flatMap({ products[$0] }) { stats.viewed(product: product.id, title: product.title, by: id.rawValue) }
            if let step = activity.step, step != "cart" { stats.reached(.checkout, by: id.rawValue) }
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLock { state in
                var changes: [ShopperChange] = []
                var stage: ShopperStage?
                var customer = storedCustomer
                var visit = state.visits[id]
                var stored: [StoredActivity] = []
                for action in actions {
                    let activity = action.activity
                    let at = action.at.map { min($0, now) } ?? now
                    let stamp = Timestamp.string(at)
                    let product = activity.productID.flatMap { products[$0] }
                    if var live = visit {
                        customer = live.customer
                        apply(activity, product: product, from: connection, at: now, stamp: Timestamp.string(now), to: &live)
                        update(&live, now: now, rules: rules)
                        if live.entry.stage != live.storedStage {
                            live.storedStage = live.entry.stage
                            stage = live.entry.stage
                        }
                        changes.append(ShopperChange(type: activity.kind == .productViewed ? "shopper.viewed" : "shopper.updated", entry: live.entry))
                        visit = live
                    }
                    stored.append(StoredActivity(
                        visitor: id, customer: customer, kind: activity.kind, productID: product?.id, category: product?.category, data: activity.dataJSON,
                        at: stamp))
                }
                if let visit { state.visits[id] = visit }
                let (store, events, stamp, stageNow, records, published) = (store, events, Timestamp.string(now), stage, stored, changes)
                writer.submit({ transaction in
                    for activity in records { try store.record(activity, in: transaction) }
                    if let stageNow { try store.setStage(stageNow, of: id, at: stamp, in: transaction) }
                    for change in published { try Self.append(change.type, change.entry, to: events, in: transaction) }
                }, completion: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                })
            }
        }
    }

    /// Whether the visitor was ever seen (and not erased).
    public func exists(_ id: VisitorID) throws -> Bool {
        try state.withLock { $0.visits[id] != nil } || store.visitor(id) != nil
    }

    /// A socket closed: the visitor has one tab fewer, and none left starts the grace period.
    public func disconnect(_ connection: UInt64) {
        let now = clock.now()
        state.withLock { state in
            guard let id = state.byConnection.removeValue(forKey: connection), var visit = state.visits[id] else { return }
            visit.tabs[connection] = nil
            if visit.tabs.isEmpty { visit.goneAt = now }
            update(&visit, now: now)
            emit("shopper.updated", &visit)
            state.visits[id] = visit
        }
    }

    /// Ends the visits whose grace is over and moves stages on with time; the server calls it every
    /// second (the test clock moves what it sees).
    public func tick() {
        let now = clock.now()
        let (day, _) = today()
        stats.startDay(day)
        takeCartEvents()
        let rules = pricing.rules.settings.stageRules
        state.withLock { state in
            // Only a visit that is gone or has cart lines can change with time alone: the rest are
            // passed over without being copied.
            var due: [VisitorID] = []
            for index in state.visits.indices where state.visits.values[index].goneAt != nil || state.visits.values[index].lines > 0 {
                due.append(state.visits.keys[index])
            }
            for id in due {
                guard var visit = state.visits[id] else { continue }
                if let gone = visit.goneAt, now.timeIntervalSince(gone) >= Self.grace {
                    state.visits[id] = nil
                    if let cart = visit.cart { state.byCart[Substring(cart.rawValue)] = nil }
                    let (store, events, stage, stamp) = (store, events, visit.entry.stage, Timestamp.string(now))
                    writer.submit({ transaction in
                        try store.setStage(stage, of: id, at: stamp, in: transaction)
                        try Self.left(id, store: store, events: events, in: transaction)
                    }, completion: { _ in })
                    continue
                }
                let before = visit.entry
                update(&visit, now: now, rules: rules)
                guard visit.entry != before else { continue }
                emit("shopper.updated", &visit)
                state.visits[id] = visit
            }
            stats.setVisitorsNow(state.visits.count)
        }
    }

    // MARK: Changes

    /// Applies one action to the current view of a visit.
    private func apply(_ activity: Activity, product: ViewedProduct?, from connection: UInt64?, at now: Date, stamp: String, to visit: inout Visit) {
        visit.lastActive = now
        visit.entry.lastActiveAt = stamp
        switch activity.kind {
        case .pageViewed:
            visit.entry.page = ShopperEntry.Page(path: activity.path ?? "/", title: activity.title)
        case .productViewed:
            if let product { visit.entry.product = ShopperEntry.Product(id: product.id.rawValue, title: product.title) }
        case .search:
            break
        case .pageHidden, .pageVisible:
            let hidden = activity.kind == .pageHidden
            if let connection, visit.tabs[connection] != nil {
                visit.tabs[connection]?.hidden = hidden
            } else {
                for key in visit.tabs.keys { visit.tabs[key]?.hidden = hidden }
            }
        case .checkoutStep:
            visit.entry.checkoutStep = activity.step == "cart" ? nil : activity.step
        }
    }

    /// Works out what follows from the visit's state: sockets, hidden and stage.
    private func update(_ visit: inout Visit, now: Date, rules: StageRules? = nil) {
        visit.entry.sockets = visit.tabs.count
        let hidden = !visit.tabs.isEmpty && visit.tabs.values.allSatisfy(\.hidden)
        if hidden != visit.entry.hidden {
            visit.entry.hidden = hidden
            visit.hiddenSince = hidden ? now : nil
        }
        visit.entry.stage = (rules ?? pricing.rules.settings.stageRules).stage(
            lines: visit.lines, step: visit.entry.checkoutStep, lastActive: visit.lastActive, hiddenSince: visit.hiddenSince, now: now)
    }

    /// Takes the cart's state into the visit (and the cart into the index, so its events refresh the visit).
    private func adopt(_ cart: Cart, into visit: inout Visit, state: inout State) {
        if let old = visit.cart, old != cart.id { state.byCart[Substring(old.rawValue)] = nil }
        guard cart.status == .active else {
            state.byCart[Substring(cart.id.rawValue)] = nil
            visit.cart = nil
            visit.lines = 0
            visit.entry.cart = nil
            visit.entry.checkoutStep = nil
            return
        }
        visit.cart = cart.id
        state.byCart[Substring(cart.id.rawValue)] = visit.entry.visitor
        visit.lines = cart.lines.count
        visit.entry.cart = ShopperEntry.Cart(id: cart.id.rawValue, lines: cart.lines.count, total: cart.totals.total)
        // A step the storefront tracked stands until the cart itself moves past `cart`.
        if cart.checkoutStep != "cart" { visit.entry.checkoutStep = cart.checkoutStep }
    }

    /// The customer a visitor is known as: signed in or linked before, else the one the cart names or
    /// whose email it carries.
    private func identify(known: CustomerID?, cart: Cart?) throws -> (id: CustomerID, entry: ShopperEntry.Customer)? {
        var id = known
        if id == nil, let named = cart?.customerID { id = CustomerID(rawValue: named) }
        if id == nil, let email = cart?.email { id = try customers.find(email: email, phone: nil)?.id }
        guard let id, let customer = try? customers.customer(id), customer.erasedAt == nil else { return nil }
        let name = [customer.firstName, customer.lastName].compactMap { $0 }.joined(separator: " ")
        return (id, ShopperEntry.Customer(id: id.rawValue, name: name.isEmpty ? nil : name, email: customer.email))
    }

    /// Queues a `shoppers` event for a change decided under the lock (so in decision order), and the
    /// visitor's stage when it moved.
    private func emit(_ type: String, _ visit: inout Visit) {
        let (events, store, entry, id) = (events, store, visit.entry, visit.entry.visitor)
        let stage: ShopperStage? = entry.stage != visit.storedStage ? entry.stage : nil
        visit.storedStage = entry.stage
        let stamp = clock.timestamp
        writer.submit({ transaction in
            if let stage { try store.setStage(stage, of: id, at: stamp, in: transaction) }
            try Self.append(type, entry, to: events, in: transaction)
        }, completion: { _ in })
    }

    /// Appends a `shoppers` event with the entry, and the note that carries it to the published view.
    private static func append(_ type: String, _ entry: ShopperEntry, to events: EventLog, in transaction: any WriteTransaction) throws {
        try events.append(type: type, topic: "shoppers", data: entry, in: transaction)
        transaction.transactionNotes.append(Published(visitor: entry.visitor, since: entry.since))
    }

    /// Writes that the visitor left: no longer live, `shopper.left`, and off the published view.
    private static func left(_ id: VisitorID, store: any ShopperStore, events: EventLog, in transaction: any WriteTransaction) throws {
        try store.setLive(false, of: id, in: transaction)
        try events.append(type: "shopper.left", topic: "shoppers", data: ShopperLeft(visitor: id.rawValue), in: transaction)
        transaction.transactionNotes.append(Published(visitor: id, since: nil))
    }

    /// A cart of a live visitor changed: its lines, total, step or customer are read again.
    private func refresh(_ id: VisitorID) async {
        guard let cartID = state.withLock({ $0.visits[id]?.cart }), let cart = try? carts.cart(cartID) else { return }
        let known = state.withLock { $0.visits[id]?.customer }
        let identity = known == nil ? (try? identify(known: nil, cart: cart)) ?? nil : nil
        let now = clock.now()
        state.withLock { state in
            guard var visit = state.visits[id], visit.cart == cartID else { return }
            let before = visit.entry
            adopt(cart, into: &visit, state: &state)
            if let identity, visit.customer == nil {
                visit.customer = identity.id
                visit.entry.customer = identity.entry
                let store = store
                writer.submit({ transaction in try store.link(id, to: identity.id, in: transaction) }, completion: { _ in })
            }
            update(&visit, now: now)
            if visit.entry != before { emit("shopper.updated", &visit) }
            state.visits[id] = visit
        }
    }

    // MARK: The log

    /// On the writer thread after a commit: the published changes it carries and the last event seq.
    private func collect(_ transaction: any WriteTransaction) -> (@Sendable () -> Void)? {
        var changes: [(VisitorID, PublishedEntry?)] = []
        var last: Event?
        for note in transaction.transactionNotes {
            if let event = note as? Event {
                last = event
            } else if let change = note as? Published, let event = last {
                changes.append((change.visitor, change.since.map { PublishedEntry(since: $0, json: event.data) }))
            }
        }
        guard let seq = last?.seq else { return nil }
        let committed = changes
        return { [weak self] in
            self?.state.withLock { state in
                for (visitor, entry) in committed { state.published[visitor] = entry }
                state.publishedSeq = max(state.publishedSeq, seq)
            }
        }
    }

    /// Every committed event, on the flusher thread, which must not be kept: a cart event of a live
    /// visitor starts a refresh of the visit at once, and every cart event waits in the inbox for the
    /// stats, which take them in batches (``takeCartEvents()``). Per cart write that is two
    /// uncontended locks, a lookup and an append.
    private func observe(_ event: Event) {
        if event.topic.utf8.starts(with: Self.productPrefix) {
            let id = ProductID(rawValue: String(event.topic.dropFirst(Self.productPrefix.count)))
            products.withLock { _ = $0.removeValue(forKey: id) }
            return
        }
        guard event.topic.utf8.starts(with: Self.cartPrefix) else { return }
        if let visitor = state.withLock({ $0.byCart[event.topic.dropFirst(5)] }) {
            Task { [weak self] in await self?.refresh(visitor) }
        }
        inbox.withLock { $0.append(event) }
    }

    private static let cartPrefix = Array("cart:".utf8)
    private static let productPrefix = Array("product:".utf8)

    /// The product a view names, from the cache or the catalogue.
    private func viewed(_ id: ProductID) throws -> ViewedProduct {
        if let known = products.withLock({ $0[id] }) { return known }
        guard let product = try catalogue.product(id) else { throw ShopperError.unknownProduct(id.rawValue) }
        let facts = ViewedProduct(id: id, title: product.title, category: product.category)
        products.withLock { $0[id] = facts }
        return facts
    }

    /// Feeds the cart events waiting in the inbox to the stats, in log order: each counts for the
    /// live visitor whose cart it is, else for the cart.
    private func takeCartEvents() {
        let batch = inbox.withLock { inbox in
            defer { inbox.removeAll(keepingCapacity: inbox.count <= 4096) }
            return inbox
        }
        guard !batch.isEmpty else { return }
        let visitors = state.withLock { state in batch.map { state.byCart[$0.topic.dropFirst(5)] } }
        var changes: [LiveStats.CartChange] = []
        changes.reserveCapacity(batch.count)
        let day = today().day
        for (event, visitor) in zip(batch, visitors) {
            let cart = event.topic.dropFirst(5)
            changes.append(LiveStats.CartChange(type: event.type, cart: cart, shopper: visitor?.rawValue ?? event.topic, data: event.data))
            if event.type == "cart.completed" { placed(CartID(rawValue: String(cart)), day: day) }
        }
        stats.cartsChanged(changes)
    }

    /// Now, by the server's clock (the test clock in tests), as stamped on what the live view sends.
    public var timestamp: String { clock.timestamp }

    /// The live stats now, with every cart event committed so far taken in.
    public func statsNow() -> LiveStats.Snapshot {
        takeCartEvents()
        return stats.snapshot()
    }

    /// The live stats if they changed since this was last asked: what the `stats` topic sends.
    public func statsChanged() -> LiveStats.Snapshot? {
        takeCartEvents()
        return stats.changedSnapshot()
    }

    /// An order was placed from `cart`: today's figures, and a redeemed offer if it used one.
    private func placed(_ cart: CartID, day: String) {
        guard let order = try? store.placedOrder(fromCart: cart) else { return }
        stats.orderPlaced(amount: order.total.amount, currency: order.total.currency, day: day)
        for _ in 0..<order.offers { stats.offer(.redeemed) }
    }

    /// Today in the shop's time zone, and the instant it began.
    private func today() -> (day: String, start: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: pricing.rules.settings.timezone) ?? .gmt
        let now = clock.now()
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        return (day, Timestamp.string(calendar.startOfDay(for: now)))
    }

    /// A string member of a flat JSON payload, without parsing it: `nil` if absent or escaped. The
    /// stats read a SKU from every `cart.line_added` this way, so it is a plain loop over the UTF-8
    /// bytes rather than a generic collection search (which showed at 3 % of the cart loop).
    static func field(_ name: String, in json: String) -> Substring? {
        var json = json
        var key = "\"\(name)\":\""
        let range: Range<Int>? = json.withUTF8 { haystack in
            key.withUTF8 { needle -> Range<Int>? in
                guard needle.count <= haystack.count, let first = needle.first else { return nil }
                var index = 0
                let last = haystack.count - needle.count
                while index <= last {
                    if haystack[index] == first, UnsafeBufferPointer(rebasing: haystack[index..<index + needle.count]).elementsEqual(needle) {
                        let start = index + needle.count
                        var end = start
                        while end < haystack.count, haystack[end] != UInt8(ascii: "\"") {
                            if haystack[end] == UInt8(ascii: "\\") { return nil }
                            end += 1
                        }
                        return end < haystack.count ? start..<end : nil
                    }
                    index += 1
                }
                return nil
            }
        }
        guard let range else { return nil }
        let utf8 = json.utf8
        return json[utf8.index(utf8.startIndex, offsetBy: range.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: range.upperBound)]
    }
}

/// What a product view needs of the product.
struct ViewedProduct: Sendable {
    var id: ProductID
    var title: String
    var category: String?
}

/// A live visitor's entry as its last `shoppers` event wrote it, with when the visit began (the
/// live list's order).
private struct PublishedEntry: Sendable {
    var since: String
    var json: String
}

/// A `shoppers` event decided under the lock, to be written.
private struct ShopperChange: Sendable {
    var type: String
    var entry: ShopperEntry
}
