import Foundation
import ShopfloorCrypto

/// From cart to order: checkout details, shipping choices, and completion, where the cart's
/// reservations become the order's sold units in one transaction with the order, its payment, the
/// discount uses and the events.
public final class CheckoutService: Sendable {
    private let carts: CartService
    private let orders: OrderService
    private let idempotency: Idempotency
    private let handovers: any HandoverStore
    private let locations: any LocationStore
    private let providers: [String: any PaymentProvider]

    public init(stores: Stores, carts: CartService, orders: OrderService, idempotency: Idempotency,
                providers: [any PaymentProvider] = [ManualPayments(), TestCardPayments()]) {
        self.carts = carts
        self.orders = orders
        self.idempotency = idempotency
        handovers = stores.handovers
        locations = stores.locations
        self.providers = Dictionary(uniqueKeysWithValues: providers.map { ($0.method, $0) })
    }

    private var pricing: PricingService { carts.pricing }
    private var writer: any StoreWriter { carts.writer }
    private var clock: any WallClock { carts.clock }

    /// The checkout fields of `PATCH /v1/carts/{id}`; absent fields stay as they are.
    public struct Details: Sendable {
        public var email: String?
        public var phone: String?
        public var customerID: String?
        public var shippingAddress: Address?
        public var billingAddress: Address?
        public var shippingMethod: String?
        public var discountCodes: [String]?
        public var checkoutStep: String?
        /// The caller vouches for `customerID` (a staff key, or the customer's own session).
        public var customerVerified: Bool

        public init(email: String? = nil, phone: String? = nil, customerID: String? = nil, shippingAddress: Address? = nil, billingAddress: Address? = nil,
                    shippingMethod: String? = nil, discountCodes: [String]? = nil, checkoutStep: String? = nil, customerVerified: Bool = false) {
            self.email = email
            self.phone = phone
            self.customerID = customerID
            self.shippingAddress = shippingAddress
            self.billingAddress = billingAddress
            self.shippingMethod = shippingMethod
            self.discountCodes = discountCodes
            self.checkoutStep = checkoutStep
            self.customerVerified = customerVerified
        }
    }

    /// Sets checkout details. A write to an active cart keeps its reservations alive like any other
    /// (up to the cart's longest hold), and one that changes nothing is not written at all;
    /// a step change emits `checkout.step_changed` so the back office sees progress.
    public func update(_ id: CartID, with details: Details) async throws -> Cart {
        var validator = Validator()
        if let email = details.email { validator.check(ContactAddress.email(email) != nil, "email", "must be an email address") }
        if let phone = details.phone {
            validator.check(ContactAddress.phone(phone) != nil, "phone", "must be a phone number in international form, such as +447700900123")
        }
        validator.text(details.customerID, "customer_id", max: 64, required: false)
        details.shippingAddress?.validate("shipping_address", into: &validator)
        details.billingAddress?.validate("billing_address", into: &validator)
        if let codes = details.discountCodes { validator.check(codes.count <= 5, "discount_codes", "holds at most 5 codes") }
        if let step = details.checkoutStep {
            validator.check(step.range(of: "^[a-z][a-z0-9_]{0,39}$", options: .regularExpression) != nil, "checkout_step",
                            "must be a step name such as cart, details, shipping, payment or personalise")
        }
        try validator.throwIfAny()
        try carts.checkCustomer(details.customerID)
        return try await carts.locks.withLock(id.rawValue) {
            self.carts.forget(id)
            let original = try self.carts.open(id)
            var cart = original
            let previousStep = cart.checkoutStep
            if let email = details.email { cart.email = email }
            if let phone = details.phone { cart.phone = ContactAddress.phone(phone) }
            if let customer = details.customerID {
                // Naming the same customer again keeps a vouched one vouched; a new one is vouched
                // only by whoever may vouch.
                cart.customerVerified = details.customerVerified || (customer == cart.customerID && cart.customerVerified)
                cart.customerID = customer
            }
            if let address = details.shippingAddress { cart.shippingAddress = address }
            if let address = details.billingAddress { cart.billingAddress = address }
            if let method = details.shippingMethod { cart.shippingMethod = method }
            if let codes = details.discountCodes {
                var seen: Set<String> = []
                cart.discountCodes = codes.filter { seen.insert($0.lowercased()).inserted }
            }
            if let step = details.checkoutStep { cart.checkoutStep = step }
            try self.checkShipping(cart)
            if details.discountCodes != nil {
                _ = try self.pricing.discounts(for: cart, strict: true) { try self.pricing.uses(of: $0, by: cart.customerKey) }
            }
            // A write that changes nothing is no write: it does not renew the cart's hold either.
            if cart == original { return try self.pricing.price(cart) }
            let (now, expiresAt, expiresMs) = self.carts.stamps(for: cart)
            let updated = cart
            try await self.writer.write { transaction in
                try self.carts.store.saveDetails(of: updated, updatedAt: now, in: transaction)
                if updated.status == .active {
                    try self.carts.store.touch(id, expiresAt: expiresAt, expiresAtMilliseconds: expiresMs, updatedAt: now, activating: false,
                                               in: transaction)
                }
                let fields = details.changedFields
                if !fields.isEmpty {
                    try self.carts.events.append(type: "cart.updated", topic: "cart:\(id)", data: CartUpdated(cartID: id.rawValue, fields: fields),
                                                 in: transaction)
                }
                if updated.checkoutStep != previousStep {
                    try self.carts.events.append(type: "checkout.step_changed", topic: "cart:\(id)",
                                        data: StepChanged(cartID: id.rawValue, from: previousStep, to: updated.checkoutStep), in: transaction)
                }
            }
            if updated.status == .active { self.carts.schedule(id, at: expiresMs) }
            return try self.carts.cart(id)!
        }
    }

    /// The shipping methods that serve the cart's address and currency (collection in store serves all).
    public func shippingMethods(for id: CartID) throws -> [ShippingMethod] {
        // A deleted cart is gone for checkout, though its record stays readable.
        guard let cart = try carts.store.cart(id), cart.status != .deleted else { throw CartError.notFound(id.rawValue) }
        return pricing.rules.shippingMethods.filter { $0.applies(to: cart.shippingAddress?.country, currency: cart.currency) }
    }

    /// Completes a cart: checks it, takes payment, then in one transaction sells the reserved units,
    /// places the order, records the payment and discount uses, and appends `cart.completed`,
    /// `order.placed`, `order.status_changed` and `stock.changed`. With an idempotency key a retry
    /// returns the order the first call placed (``Idempotency``); a second completion of the cart is a conflict.
    public func complete(_ id: CartID, payment: PaymentRequest, payer: Principal?, request: IdempotentRequest?) async throws -> Order {
        try await idempotency.perform(request, scope: "complete:\(id)", status: 201) { recorder in
            guard let provider = self.providers[payment.method] else {
                throw ValidationError(field: "payment.method", detail: "must be one of \(self.providers.keys.sorted().joined(separator: ", "))")
            }
            return try await self.carts.locks.withLock(id.rawValue) {
                try await self.completeLocked(id, payment: payment, provider: provider, payer: payer, recorder: recorder)
            }
        }
    }

    /// Completes a cart for an order to be paid later (a confirmed replenishment proposal: an
    /// operator calls the customer): payment `manual`, `pending`, so the order stays `placed`.
    func completeUnpaid(_ id: CartID, reference: String) async throws -> Order {
        try await carts.locks.withLock(id.rawValue) {
            try await self.completeLocked(id, payment: PaymentRequest(method: "manual", reference: reference), provider: PayLater(), payer: nil,
                                          recorder: nil)
        }
    }

    private func completeLocked(_ id: CartID, payment: PaymentRequest, provider: any PaymentProvider, payer: Principal?,
                                recorder: Idempotency.Recorder<Order>?) async throws -> Order {
        carts.forget(id)
        guard let loaded = try carts.store.cart(id) else { throw CartError.notFound(id.rawValue) }
        if loaded.status == .completed, let order = try orders.order(forCart: id) { throw CheckoutError.alreadyCompleted(orderID: order.id.rawValue) }
        guard loaded.status == .active || loaded.status == .expired else { throw CartError.closed(id: id.rawValue, status: loaded.status) }
        try checkComplete(loaded)
        // A till takes cash for a web order only where the shop lets its tills serve online orders.
        if payer?.role == .pos, loaded.channel == .online, provider.method == "manual", !pricing.rules.settings.posServesOnline {
            throw CheckoutError.paymentNotAllowed("a till records manual payments for online carts only when the shop's pos_serves_online setting is on")
        }
        let discounts = try pricing.discounts(for: loaded, strict: true) { try pricing.uses(of: $0, by: loaded.customerKey) }
        if loaded.status == .expired {
            // Reserve again and make the cart active with a fresh deadline, as adding to it would:
            // whatever happens next (a declined card), it then holds exactly its lines, and expires
            // as usual if the customer walks away.
            let locations = try carts.reservationLocations(loaded)
            do {
                _ = try await carts.reactivateIfExpired(loaded, from: locations)
            } catch InventoryError.insufficientStock {
                throw CheckoutError.stockGone(try await shortages(loaded, at: locations))
            }
            let (now, expiresAt, expiresMs) = carts.stamps()
            try await writer.write { transaction in
                try self.carts.store.touch(id, expiresAt: expiresAt, expiresAtMilliseconds: expiresMs, updatedAt: now, activating: true,
                                           in: transaction)
            }
            carts.schedule(id, at: expiresMs)
        }
        let cart = try pricing.price(loaded)
        let outcome = try await provider.charge(payment, amount: cart.totals.total, payer: payer?.role)
        let allocations = try carts.store.held(by: id)
        for line in loaded.lines where allocations[line.sku, default: []].reduce(0, { $0 + $1.quantity }) != line.quantity {
            throw CheckoutError.heldMismatch(sku: line.sku)
        }
        let sold = allocations
        let method = cart.shippingMethod.flatMap { id in pricing.rules.shippingMethods.first { $0.id.rawValue == id } }
        let tillSale = cart.channel == .pos && (payer?.role == .pos || payer?.role == .admin)
        let actor = payer?.actor ?? "customer"
        let orderID = OrderID.make()
        let token = "trk_" + SecureRandom.hex(16)
        // A till cart the customer paid on their own phone is handed over with a PIN at its location.
        let handover = cart.channel == .pos && !tillSale && outcome.status == .succeeded
        let till = handover ? try locations.find(cart.location ?? "") : nil
        let now = clock.timestamp
        let order = try await carts.stock.settling(sold, as: .sold) {
            try await self.writer.write { transaction in
                for (sku, allocations) in sold.sorted(by: { $0.key < $1.key }) {
                    for allocation in allocations {
                        try self.carts.stock.ledger.apply(
                            StockLedger.Change(sku: sku, location: allocation.location, onHandDelta: -allocation.quantity,
                                               reservedDelta: -allocation.quantity, reason: "sold", actor: "order:\(orderID)"), in: transaction)
                    }
                }
                try self.carts.store.deleteReservations(cart: id, in: transaction)
                try self.carts.store.setStatus(id, .completed, updatedAt: now, in: transaction)
                let placed = Placement(
                    id: orderID, cart: cart, allocations: sold, method: method, discounts: discounts, payment: payment, outcome: outcome,
                    actor: actor, tillSale: tillSale, token: token)
                let order = try self.orders.insert(placed, in: transaction)
                for discount in discounts {
                    guard try self.pricing.store.recordUse(of: discount.id, order: orderID, customer: cart.customerKey, in: transaction) else {
                        throw CheckoutError.discountRejected(code: discount.code ?? discount.id.rawValue, reason: .exhausted)
                    }
                }
                try self.carts.events.append(type: "cart.completed", topic: "cart:\(id)",
                                             data: CartCompleted(cartID: id.rawValue, orderID: orderID.rawValue), in: transaction)
                try recorder?.record(order, in: transaction)
                // The PIN goes only into this response, never into the stored one a retry gets.
                var answered = order
                if let till {
                    answered.handoverPin = try POSHandover.issue(for: orderID, location: till.id, store: self.handovers, clock: self.clock,
                                                                 in: transaction)
                }
                return answered
            }
        }
        if !discounts.isEmpty { try pricing.reload() }
        return order
    }

    /// What an online cart needs before payment: lines, an email, and a shipping method (with an
    /// address unless it is collected) when the shop ships to the cart.
    private func checkComplete(_ cart: Cart) throws {
        var missing: [FieldError] = []
        if cart.lines.isEmpty { missing.append(FieldError(field: "lines", detail: "the cart is empty")) }
        if cart.channel == .online {
            if cart.email == nil { missing.append(FieldError(field: "email", detail: "is required to complete an online cart")) }
            let methods = pricing.rules.shippingMethods.filter { $0.price.currency == cart.currency }
            if let id = cart.shippingMethod {
                if let method = methods.first(where: { $0.id.rawValue == id }), method.collectInStore == nil, cart.shippingAddress == nil {
                    missing.append(FieldError(field: "shipping_address", detail: "is required for a delivered order"))
                }
            } else if !methods.isEmpty {
                missing.append(FieldError(field: "shipping_method", detail: "is required: see GET /v1/carts/{id}/shipping-methods"))
            }
        }
        if !missing.isEmpty { throw CheckoutError.incomplete(missing) }
        try checkShipping(cart)
    }

    private func checkShipping(_ cart: Cart) throws {
        guard let id = cart.shippingMethod else { return }
        guard let method = pricing.rules.shippingMethods.first(where: { $0.id.rawValue == id }) else {
            throw CheckoutError.shippingUnavailable("no shipping method \(id)")
        }
        if method.collectInStore == nil, let country = cart.shippingAddress?.country, !method.applies(to: country, currency: cart.currency) {
            throw CheckoutError.shippingUnavailable("\(method.name) does not ship to \(country) in \(cart.currency)")
        }
        guard method.price.currency == cart.currency else {
            throw CheckoutError.shippingUnavailable("\(method.name) is priced in \(method.price.currency), the cart in \(cart.currency)")
        }
    }

    private func shortages(_ cart: Cart, at locations: [Location]) async throws -> [CheckoutError.Shortage] {
        var result: [CheckoutError.Shortage] = []
        for line in cart.lines {
            let available = try await carts.stock.withStock(line.sku) { await $0.available(at: locations) }
            if available < line.quantity { result.append(.init(sku: line.sku, requested: line.quantity, available: available)) }
        }
        return result
    }
}

/// The payload of `checkout.step_changed`.
struct StepChanged: Encodable {
    var cartID: String
    var from: String
    var to: String
}

/// The payload of `cart.updated`: which checkout details a `PATCH` set (names only: the topic is
/// public to whoever holds the cart id, and the cart itself says the rest).
struct CartUpdated: Encodable {
    var cartID: String
    var fields: [String]
}

extension CheckoutService.Details {
    /// The members given, by their API names, the checkout step aside (it has its own event).
    var changedFields: [String] {
        [("email", email != nil), ("phone", phone != nil), ("customer_id", customerID != nil), ("shipping_address", shippingAddress != nil),
         ("billing_address", billingAddress != nil), ("shipping_method", shippingMethod != nil), ("discount_codes", discountCodes != nil)]
            .filter(\.1).map(\.0)
    }
}

/// The payload of `cart.completed`.
struct CartCompleted: Encodable {
    var cartID: String
    var orderID: String
}

/// Everything an order is made from at the moment it is placed.
struct Placement: Sendable {
    var id: OrderID
    var cart: Cart
    var allocations: [String: [Allocation]]
    var method: ShippingMethod?
    var discounts: [Discount]
    var payment: PaymentRequest
    var outcome: PaymentOutcome
    var actor: String
    /// A till sale: paid and handed over at once.
    var tillSale: Bool
    var token: String
}
