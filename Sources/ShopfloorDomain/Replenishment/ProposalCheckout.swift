import Foundation

/// Confirming a proposal (API.md, Automation, Replenishment): its items become an order as any order
/// is made, through a cart whose lines reserve stock at the SKU actors and a checkout that sells it,
/// so a proposal never oversells; the order is `placed` with payment `manual` pending, and staff get
/// a task to call the customer.
///
/// The cart is written on the proposal before its lines are added, so a confirmation cut short (a
/// crash, a lost answer) is finished from that cart when the customer taps again, never placed twice.
public final class ProposalCheckout: Sendable {
    private let store: any ReplenishmentStore
    private let customers: any CustomerStore
    private let orders: any OrderStore
    private let tasks: any TaskStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let carts: CartService
    private let checkout: CheckoutService
    private let replenishment: ReplenishmentService
    private let currency: Currency
    private let clock: any WallClock
    private let locks = KeyedLock()

    public init(stores: Stores, events: EventLog, carts: CartService, checkout: CheckoutService, replenishment: ReplenishmentService,
                currency: Currency, clock: any WallClock) {
        store = stores.replenishment
        customers = stores.customers
        orders = stores.orders
        tasks = stores.tasks
        writer = stores.writer
        self.events = events
        self.carts = carts
        self.checkout = checkout
        self.replenishment = replenishment
        self.currency = currency
        self.clock = clock
    }

    /// Places the proposal's order and makes the call task; a repeat answers with the same order.
    /// Stock that ran out is ``ReplenishmentError/stockShort(_:)`` with what is missing, and nothing stays reserved.
    public func confirm(token: String) async throws -> (Proposal, Order) {
        let proposal = try replenishment.proposal(token: token)
        return try await locks.withLock(proposal.id.rawValue) { try await self.confirmLocked(proposal.id) }
    }

    /// Puts the proposal's items off (``ReplenishmentService/postpone(token:days:wishlist:)``), one
    /// proposal at a time with confirmations: a postpone never lands between a confirmation's cart and
    /// its order. A confirmation cut short is finished if its order was placed (then the proposal is
    /// confirmed), else its cart is dropped first.
    public func postpone(token: String, days: Int?, wishlist: Bool) async throws -> Proposal {
        let proposal = try replenishment.proposal(token: token)
        return try await locks.withLock(proposal.id.rawValue) {
            guard var current = try self.store.proposal(proposal.id) else { throw ReplenishmentError.proposalNotFound }
            if current.status == .open, let cart = current.cartID {
                if let placed = try self.orders.order(forCart: cart) {
                    _ = try await self.finish(current, order: placed)
                    throw ReplenishmentError.decided(.confirmed)
                }
                try await self.drop(cart, from: &current)
            }
            return try await self.replenishment.postpone(token: token, days: days, wishlist: wishlist)
        }
    }

    private func confirmLocked(_ id: ProposalID) async throws -> (Proposal, Order) {
        guard var proposal = try store.proposal(id) else { throw ReplenishmentError.proposalNotFound }
        if proposal.status == .confirmed, let orderID = proposal.orderID, let order = try orders.order(orderID) { return (proposal, order) }
        if let cart = proposal.cartID, let placed = try orders.order(forCart: cart) { return try await finish(proposal, order: placed) }
        let status = proposal.status(at: clock.timestamp)
        guard status == .open else { throw ReplenishmentError.decided(status) }
        guard let customer = try customers.customer(proposal.customerID) else { throw ReplenishmentError.proposalNotFound }
        guard let email = customer.email else { throw ReplenishmentError.cannotConfirm("the customer has no email address for the order") }

        let cart: Cart
        if let id = proposal.cartID, let existing = try carts.cart(id), existing.status == .active || existing.status == .expired {
            cart = existing
        } else {
            cart = try await carts.create(channel: .online, location: nil, customerID: customer.id.rawValue, currency: currency,
                                          customerVerified: true)
            proposal.cartID = cart.id
            let (store, saved) = (store, proposal)
            try await writer.write { transaction in try store.update(saved, in: transaction) }
        }
        do {
            let order = try await place(proposal, cart: cart, customer: customer, email: email)
            return try await finish(proposal, order: order)
        } catch {
            // Nothing stays held for an order that was not placed (stock gone, no address to ship to):
            // the next confirmation starts afresh, and no abandoned-cart flow finds a cart the customer never saw.
            if try orders.order(forCart: cart.id) == nil { try await drop(cart.id, from: &proposal) }
            throw error
        }
    }

    /// Deletes a confirmation's cart that became no order (its stock goes back) and forgets it.
    private func drop(_ cart: CartID, from proposal: inout Proposal) async throws {
        try? await carts.delete(cart)
        proposal.cartID = nil
        let (store, saved) = (store, proposal)
        try await writer.write { transaction in try store.update(saved, in: transaction) }
    }

    /// Fills the cart with the proposal's items (stock reserved), sets the details, and completes it unpaid.
    private func place(_ proposal: Proposal, cart: Cart, customer: Customer, email: String) async throws -> Order {
        var shortages: [CheckoutError.Shortage] = []
        for item in proposal.items where !cart.lines.contains(where: { $0.sku == item.sku }) {
            do {
                _ = try await carts.addLine(cart.id, sku: item.sku, quantity: item.quantity, customisation: nil)
            } catch InventoryError.insufficientStock(let sku, let available) {
                shortages.append(CheckoutError.Shortage(sku: sku, requested: item.quantity, available: available))
            }
        }
        if !shortages.isEmpty { throw ReplenishmentError.stockShort(shortages) }
        let last = try orders.orders(.init(customerID: customer.id.rawValue), before: .max, limit: 1).first?.order
        let address = last?.shippingAddress ?? customer.addresses.first
        var details = CheckoutService.Details(email: email, phone: customer.phone, shippingAddress: address, checkoutStep: "confirmed")
        let methods = try checkout.shippingMethods(for: cart.id)
        if let previous = last?.shippingMethod?.id.rawValue, methods.contains(where: { $0.id.rawValue == previous }) {
            details.shippingMethod = previous
        } else {
            details.shippingMethod = methods.min { $0.price.amount < $1.price.amount }?.id.rawValue
        }
        _ = try await checkout.update(cart.id, with: details)
        return try await checkout.completeUnpaid(cart.id, reference: "proposal:\(proposal.id.rawValue)")
    }

    /// Marks the proposal confirmed with its order, and makes the task to call the customer.
    private func finish(_ proposal: Proposal, order: Order) async throws -> (Proposal, Order) {
        var confirmed = proposal
        confirmed.status = .confirmed
        confirmed.orderID = order.id
        confirmed.decidedAt = clock.timestamp
        let customer = try customers.customer(proposal.customerID)
        let who = customer?.fullName ?? customer?.phone ?? customer?.email ?? proposal.customerID.rawValue
        let task = StaffTask(
            id: .make(), text: "Call \(who) about order \(order.number), confirmed from a replenishment proposal", status: .open,
            customerID: proposal.customerID, orderID: order.id, flowID: nil, runID: nil, createdAt: clock.timestamp, doneAt: nil, doneBy: nil)
        let (store, tasks, events, saved) = (store, tasks, events, confirmed)
        try await writer.write { transaction in
            guard try store.proposal(saved.id, in: transaction)?.status != .confirmed else { return }
            try store.update(saved, in: transaction)
            try tasks.insert(task, in: transaction)
            try TaskService.appendEvent("task.created", for: task, to: events, in: transaction)
        }
        return (confirmed, order)
    }
}
