import Foundation

/// Orders: placing them (for checkout), reading and listing them, moving them through their
/// statuses, and their public tracking view.
public final class OrderService: Sendable {
    let store: any OrderStore
    private let locations: any LocationStore
    private let writer: any StoreWriter
    private let stock: StockRegistry
    /// Units sold per SKU, location and day, for stock cover.
    private let sales: any StockCoverStore
    let events: EventLog
    let clock: any WallClock
    /// Tells customers about their orders; `nil` where nothing is sent (some tests).
    private let notices: OrderMessages?
    /// Links each order to its customer and keeps their stats; `nil` where orders stay anonymous (some tests).
    private let customers: CustomerService?

    public init(stores: Stores, events: EventLog, stock: StockRegistry, notices: OrderMessages? = nil, customers: CustomerService? = nil,
                clock: any WallClock = SystemClock()) {
        self.customers = customers
        store = stores.orders
        sales = stores.cover
        locations = stores.locations
        writer = stores.writer
        self.events = events
        self.stock = stock
        self.notices = notices
        self.clock = clock
    }

    // MARK: Reads

    public func order(_ id: OrderID) throws -> Order? {
        try store.order(id)
    }

    func order(forCart cart: CartID) throws -> Order? {
        try store.order(forCart: cart)
    }

    /// Filters of `GET /v1/orders`; all optional.
    public struct Filter: Sendable {
        public var status: OrderStatus?
        public var customerID: String?
        public var email: String?
        public var channel: Cart.Channel?
        public var location: String?
        public var createdAfter: String?
        public var createdBefore: String?
        /// Whose orders: a till's list holds only what ``OrderVisibility`` lets it see.
        public var visibility: OrderVisibility = .all

        public init(status: OrderStatus? = nil, customerID: String? = nil, email: String? = nil, channel: Cart.Channel? = nil,
                    location: String? = nil, createdAfter: String? = nil, createdBefore: String? = nil) {
            self.status = status
            self.customerID = customerID
            self.email = email
            self.channel = channel
            self.location = location
            self.createdAfter = createdAfter
            self.createdBefore = createdBefore
        }
    }

    /// Orders matching `filter`, newest first, a page at a time (the cursor is the last order's seq).
    public func orders(_ filter: Filter, limit: Int, before: Int64?) throws -> Page<Order> {
        var filter = filter
        filter.createdAfter = filter.createdAfter.flatMap(Timestamp.normalised)
        filter.createdBefore = filter.createdBefore.flatMap(Timestamp.normalised)
        let limit = max(1, min(limit, 200))
        let found = try store.orders(filter, before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: \.order)
    }

    /// The public view of the order with this tracking token.
    public func tracking(_ token: String) throws -> OrderTracking? {
        try store.order(trackingToken: token).map(Self.tracking)
    }

    // MARK: Transitions

    /// Moves an order to `status` if the transition table allows it, recording who, when and why.
    /// Cancelling or refunding before dispatch returns the units to the locations they came from.
    public func transition(_ id: OrderID, to status: OrderStatus, actor: String, note: String?, trackingNumber: String?) async throws -> Order {
        var validator = Validator()
        validator.text(note, "note", max: 500, required: false)
        validator.text(trackingNumber, "tracking_number", max: 100, required: false)
        try validator.throwIfAny()
        guard let current = try order(id) else { throw CheckoutError.notFound("order \(id)") }
        guard current.status.next.contains(status) else { throw CheckoutError.invalidTransition(from: current.status, to: status) }
        let restock = (status == .cancelled || status == .refunded) && current.status.goodsInStock
        var returns: [String: [Allocation]] = [:]
        if restock {
            let locations = try self.locations.all()
            for line in current.lines {
                for allocation in line.allocations {
                    guard let location = locations.first(where: { $0.code == allocation.location }) else { continue }
                    returns[line.sku, default: []].append(Allocation(location: location, quantity: allocation.quantity))
                }
            }
        }
        let returned = returns
        return try await stock.settling(returned, as: .returned) {
            try await writer.write { transaction in
                // Checked again inside the transaction: two requests may race to move the same order.
                guard try self.store.order(id, in: transaction)?.status == current.status
                else { throw CheckoutError.invalidTransition(from: current.status, to: status) }
                for (sku, allocations) in returned.sorted(by: { $0.key < $1.key }) {
                    for allocation in allocations {
                        try self.stock.ledger.apply(
                            StockLedger.Change(sku: sku, location: allocation.location, onHandDelta: allocation.quantity,
                                               reason: "returned", actor: "order:\(id)", note: status.rawValue), in: transaction)
                    }
                }
                if status == .refunded {
                    try self.store.refundPayments(of: id, in: transaction)
                }
                if status == .cancelled || status == .refunded {
                    try self.customers?.withdraw(current, in: transaction)
                    // Given back on the day it was sold, so that day's pace is as if it never sold.
                    try self.sales.recordSales(Self.sales(current.lines, sign: -1), day: String(current.createdAt.prefix(10)), in: transaction)
                }
                return try self.record(id, status: status, actor: actor, note: note, trackingNumber: trackingNumber, in: transaction)
            }
        }
    }

    // MARK: Writing (inside checkout's transaction)

    /// Places the order of a completed cart and returns it: `placed`, then `paid` if the payment
    /// succeeded, then `delivered` for a sale handed over at the till.
    func insert(_ placement: Placement, in transaction: any WriteTransaction) throws -> Order {
        let cart = placement.cart
        let now = clock.timestamp
        let lines = cart.lines.map { line in
            OrderLine(
                sku: line.sku, title: line.title, quantity: line.quantity, unitPrice: line.unitPrice, lineTotal: line.lineTotal,
                customisation: line.customisation,
                allocations: (placement.allocations[line.sku] ?? []).map { LineAllocation(location: $0.location.code, quantity: $0.quantity) })
        }
        let payment = Payment(id: .make(), method: placement.payment.method, status: placement.outcome.status, amount: cart.totals.total,
                              reference: placement.outcome.reference, createdAt: now)
        let customer = try customers?.customer(placing: cart, in: transaction)
        let customerID = customer?.rawValue ?? cart.customerID
        let order = Order(
            id: placement.id, number: "#\(try store.nextNumber(in: transaction))", cartID: cart.id, channel: cart.channel,
            location: cart.channel == .pos ? cart.location : nil, status: .placed, customerID: customerID, email: cart.email,
            currency: cart.currency, lines: lines, totals: cart.totals, shippingAddress: cart.shippingAddress, billingAddress: cart.billingAddress,
            shippingMethod: placement.method, discountCodes: placement.discounts.compactMap(\.code), payments: [payment], history: [],
            trackingToken: placement.token, trackingNumber: nil, createdAt: now, updatedAt: now, handoverPin: nil, phone: cart.phone)
        try store.insert(order, in: transaction)
        try sales.recordSales(Self.sales(order.lines, sign: 1), day: String(now.prefix(10)), in: transaction)
        if let customer { try customers?.record(order, of: customer, in: transaction) }
        var placed = try record(placement.id, status: .placed, actor: placement.actor, note: nil, trackingNumber: nil, in: transaction,
                                event: "order.placed")
        if placement.outcome.status == .succeeded {
            placed = try record(placement.id, status: .paid, actor: placement.actor, note: nil, trackingNumber: nil, in: transaction,
                                notify: false)
            if placement.tillSale {
                placed = try record(placement.id, status: .delivered, actor: placement.actor, note: "sold at the till", trackingNumber: nil,
                                    in: transaction, notify: false)
            }
        }
        try notices?.placed(placed, in: transaction)
        return placed
    }

    /// Sets the status, appends the history entry, and emits the event on the order's topic and,
    /// without personal data, on its tracking topic; returns the order as it now stands. A change
    /// after placing tells the customer too, unless `notify` is off (the steps of placing an order,
    /// which its confirmation covers).
    func record(_ id: OrderID, status: OrderStatus, actor: String, note: String?, trackingNumber: String?,
                in transaction: any WriteTransaction, event: String = "order.status_changed", notify: Bool = true) throws -> Order {
        let now = clock.timestamp
        try store.setStatus(id, status, trackingNumber: trackingNumber, updatedAt: now, in: transaction)
        try store.appendHistory(id, OrderHistoryEntry(status: status, at: now, actor: actor, note: note, trackingNumber: trackingNumber),
                                in: transaction)
        guard let order = try store.order(id, in: transaction) else { throw CheckoutError.notFound("order \(id)") }
        try events.append(type: event, topic: "order:\(id)",
                          data: StatusChanged(orderID: id.rawValue, number: order.number, channel: order.channel, location: order.location,
                                              status: status, actor: actor, note: note, trackingNumber: order.trackingNumber), in: transaction)
        try events.append(type: event, topic: "track:\(order.trackingToken)", data: Self.tracking(order), in: transaction)
        if notify, event == "order.status_changed" { try notices?.statusChanged(order, in: transaction) }
        return order
    }

    /// Units sold per SKU and location of `lines` (negative with `sign` -1).
    static func sales(_ lines: [OrderLine], sign: Int) -> [(sku: String, location: String, quantity: Int)] {
        lines.flatMap { line in line.allocations.map { (line.sku, $0.location, sign * $0.quantity) } }
    }

    static func tracking(_ order: Order) -> OrderTracking {
        OrderTracking(
            number: order.number, status: order.status, firstName: (order.shippingAddress ?? order.billingAddress)?.firstName,
            trackingNumber: order.trackingNumber, items: order.lines.map { .init(title: $0.title, quantity: $0.quantity) },
            history: order.history.map { .init(status: $0.status, at: $0.at) })
    }
}

/// The payload of `order.placed` and `order.status_changed` on an order's topic.
struct StatusChanged: Encodable {
    var orderID: String
    var number: String
    /// Channel and till location, so a till's subscription hears only the orders it may see.
    var channel: Cart.Channel
    var location: String?
    var status: OrderStatus
    var actor: String
    var note: String?
    var trackingNumber: String?
}
