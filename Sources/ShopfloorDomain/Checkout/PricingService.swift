import Foundation
import Synchronization
import ShopfloorCrypto

/// Tax rates, shipping methods, discounts and shop settings, and the totals they give a cart.
///
/// The rules are few and read on every cart response, so they live in memory as one snapshot,
/// reloaded after each change (every change goes through this service).
public final class PricingService: Sendable {
    let store: any PricingStore
    private let writer: any StoreWriter
    private let clock: any WallClock
    private let snapshot: Mutex<PricingRules>

    public init(stores: Stores, clock: any WallClock = SystemClock()) throws {
        store = stores.pricing
        writer = stores.writer
        self.clock = clock
        snapshot = Mutex(try store.rules())
    }

    public var rules: PricingRules { snapshot.withLock { $0 } }

    // MARK: Setup

    public func createTaxRate(country: String, region: String?, rateBp: Int, name: String?) async throws -> TaxRate {
        var validator = Validator()
        validator.check(Address.isCountryCode(country), "country", "must be an ISO 3166-1 alpha-2 code such as GB")
        validator.text(region, "region", max: 100, required: false)
        validator.check((0...10_000).contains(rateBp), "rate_bp", "must be basis points from 0 to 10000 (2000 is 20 %)")
        validator.text(name, "name", max: 100, required: false)
        try validator.throwIfAny()
        guard rules.taxRates.first(where: { $0.country == country && $0.region?.lowercased() == region?.lowercased() }) == nil else {
            throw CheckoutError.duplicate("a tax rate for \(country)\(region.map { "/\($0)" } ?? "") exists")
        }
        let rate = TaxRate(id: .make(), country: country, region: region, rateBp: rateBp, name: name, createdAt: clock.timestamp)
        try await change { store, transaction in try store.insert(rate, in: transaction) }
        return rate
    }

    public func createShippingMethod(name: String, price: Money, countries: [String], freeOver: Money?, collectInStore: Location?) async throws -> ShippingMethod {
        var validator = Validator()
        validator.text(name, "name", max: 100)
        validator.check((0...100_000_000_000).contains(price.amount), "price.amount", "must be from 0 to 100000000000")
        validator.check(countries.count <= 300 && countries.allSatisfy(Address.isCountryCode), "countries", "must be ISO 3166-1 alpha-2 codes such as GB")
        validator.check(!countries.isEmpty || collectInStore != nil, "countries", "must name at least one country, unless the method is collect_in_store")
        if let freeOver {
            validator.check(freeOver.currency == price.currency, "free_over.currency", "must be the price's currency")
            validator.check(freeOver.amount >= 0, "free_over.amount", "must not be negative")
        }
        try validator.throwIfAny()
        let method = ShippingMethod(id: .make(), name: name, price: price, countries: Array(Set(countries)).sorted(), freeOver: freeOver,
                                    collectInStore: collectInStore?.code, createdAt: clock.timestamp)
        try await change { store, transaction in try store.insert(method, collectLocation: collectInStore?.id, in: transaction) }
        return method
    }

    /// What a new discount is made of (API.md: `POST /v1/discounts`).
    public struct NewDiscount: Sendable {
        public var code: String?
        public var kind: Discount.Kind
        public var value: Int64
        public var currency: Currency?
        public var customerID: String?
        public var minSubtotal: Money?
        public var maxUses: Int?
        public var maxUsesPerCustomer: Int?
        public var startsAt: String?
        public var endsAt: String?

        public init(code: String?, kind: Discount.Kind, value: Int64, currency: Currency?, customerID: String?, minSubtotal: Money?,
                    maxUses: Int?, maxUsesPerCustomer: Int?, startsAt: String?, endsAt: String?) {
            self.code = code
            self.kind = kind
            self.value = value
            self.currency = currency
            self.customerID = customerID
            self.minSubtotal = minSubtotal
            self.maxUses = maxUses
            self.maxUsesPerCustomer = maxUsesPerCustomer
            self.startsAt = startsAt
            self.endsAt = endsAt
        }
    }

    public func createDiscount(_ new: NewDiscount) async throws -> Discount {
        var validator = Validator()
        if let code = new.code {
            validator.check((3...40).contains(code.count) && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") },
                            "code", "must be 3 to 40 letters, digits, - or _")
        }
        Discount.checkValue(kind: new.kind, value: new.value, currency: new.currency, into: &validator)
        validator.text(new.customerID, "customer_id", max: 64, required: false)
        validator.check(new.minSubtotal.map { $0.amount >= 0 } ?? true, "min_subtotal.amount", "must not be negative")
        validator.check(new.maxUses.map { $0 >= 1 } ?? true, "max_uses", "must be at least 1")
        validator.check(new.maxUsesPerCustomer.map { $0 >= 1 } ?? true, "max_uses_per_customer", "must be at least 1")
        validator.check(new.startsAt.map(Timestamp.isValid) ?? true, "starts_at", "must be an RFC 3339 time")
        validator.check(new.endsAt.map(Timestamp.isValid) ?? true, "ends_at", "must be an RFC 3339 time")
        if let starts = new.startsAt.flatMap(Timestamp.date), let ends = new.endsAt.flatMap(Timestamp.date) {
            validator.check(starts < ends, "ends_at", "must be after starts_at")
        }
        try validator.throwIfAny()
        if let code = new.code, try rules.discounts.contains(where: { $0.code?.lowercased() == code.lowercased() }) || store.issuedDiscount(code: code) != nil {
            throw CheckoutError.duplicate("the discount code \(code) exists")
        }
        let discount = Discount(
            id: .make(), code: new.code, kind: new.kind, value: new.kind == .freeShipping ? 0 : new.value,
            currency: new.kind == .fixed ? new.currency : nil, customerID: new.customerID, minSubtotal: new.minSubtotal,
            maxUses: new.maxUses, maxUsesPerCustomer: new.maxUsesPerCustomer, startsAt: new.startsAt.flatMap(Timestamp.normalised),
            endsAt: new.endsAt.flatMap(Timestamp.normalised), disabled: false, uses: 0, createdAt: clock.timestamp)
        try await change { store, transaction in try store.insert(discount, in: transaction) }
        return discount
    }

    /// Stops a discount from applying to carts from now on; orders already placed keep it.
    public func disableDiscount(_ id: DiscountID) async throws -> Discount {
        guard rules.discounts.contains(where: { $0.id == id }) else { throw CheckoutError.notFound("discount \(id)") }
        try await change { store, transaction in try store.disable(id, in: transaction) }
        return rules.discounts.first { $0.id == id }!
    }

    public func updateSettings(_ update: (inout ShopSettings) -> Void) async throws -> ShopSettings {
        var settings = rules.settings
        update(&settings)
        var validator = Validator()
        validator.check(Address.isCountryCode(settings.shopCountry), "shop_country", "must be an ISO 3166-1 alpha-2 code such as GB")
        validator.text(settings.shopRegion, "shop_region", max: 100, required: false)
        if let offer = settings.receiptDiscount {
            switch offer.kind {
            case .percent: validator.check((1...100).contains(offer.value), "receipt_discount.value", "must be a percentage from 1 to 100")
            case .fixed: validator.check((1...100_000_000_000).contains(offer.value), "receipt_discount.value", "must be from 1 to 100000000000")
            case .freeShipping: validator.check(offer.value == 0, "receipt_discount.value", "must be 0 for free shipping")
            }
            validator.check((1...3_650).contains(offer.validDays), "receipt_discount.valid_days", "must be from 1 to 3650")
        }
        validator.check(TimeZone(identifier: settings.timezone) != nil, "timezone", "must be an IANA time zone such as Europe/London")
        validator.check((10...86_400).contains(settings.hesitatingAfter), "hesitating_after", "must be from 10 to 86400 seconds")
        validator.check((10...86_400).contains(settings.hiddenHesitatingAfter), "hidden_hesitating_after", "must be from 10 to 86400 seconds")
        validator.check((0...720).contains(settings.emailCapHours), "email_cap_hours", "must be from 0 (no cap) to 720 hours")
        validator.check((0...720).contains(settings.smsCapHours), "sms_cap_hours", "must be from 0 (no cap) to 720 hours")
        validator.check((0...720).contains(settings.pushCapHours), "push_cap_hours", "must be from 0 (no cap) to 720 hours")
        if let quiet = settings.quietHours {
            validator.check(QuietHours.minutes(quiet.start) != nil, "quiet_hours.start", "must be a time of day such as 21:00")
            validator.check(QuietHours.minutes(quiet.end) != nil, "quiet_hours.end", "must be a time of day such as 08:00")
            validator.check(quiet.start != quiet.end, "quiet_hours.end", "must differ from start (null turns quiet hours off)")
        }
        try validator.throwIfAny()
        let saved = settings
        try await change { store, transaction in try store.save(saved, in: transaction) }
        return settings
    }

    /// Refreshes the snapshot, after orders count discount uses.
    func reload() throws {
        let fresh = try store.rules()
        snapshot.withLock { $0 = fresh }
    }

    /// Runs `write` in a transaction, then reloads the snapshot.
    private func change(_ write: @escaping @Sendable (any PricingStore, any WriteTransaction) throws -> Void) async throws {
        try await writer.write { [store] transaction in try write(store, transaction) }
        try reload()
    }

    /// Issues a single-use code for `offer`, valid from now for its days, in the caller's
    /// transaction (a receipt's, so the code exists exactly when the receipt does). `source` says what
    /// it was issued for (`order:ord_…`); a fixed amount is in `currency`.
    func issue(_ offer: DiscountOffer, currency: Currency, for source: String, in transaction: any WriteTransaction) throws -> Discount {
        let now = clock.now()
        let discount = Discount(
            id: .make(), code: "THANKS-" + SecureRandom.base32(5).uppercased(), kind: offer.kind, value: offer.kind == .freeShipping ? 0 : offer.value,
            currency: offer.kind == .fixed ? currency : nil, customerID: nil, minSubtotal: nil, maxUses: 1, maxUsesPerCustomer: nil,
            startsAt: nil, endsAt: Timestamp.string(now.addingTimeInterval(Double(offer.validDays) * 86_400)), disabled: false, uses: 0,
            createdAt: Timestamp.string(now))
        try store.insertIssued(discount, for: source, in: transaction)
        return discount
    }

    // MARK: Pricing carts

    /// Why a discount code does not apply to a cart.
    public enum Rejection: String, Sendable {
        case unknownCode = "unknown_code"
        case disabled
        case notStarted = "not_started"
        case ended
        case exhausted
        case customerLimit = "customer_limit"
        case wrongCustomer = "wrong_customer"
        case wrongCart = "wrong_cart"
        case minSubtotal = "min_subtotal"
        case currencyMismatch = "currency_mismatch"
    }

    /// The discounts that apply to `cart`: its codes (each must apply, or this throws naming the code
    /// and why) and the automatic discounts it qualifies for.
    func discounts(for cart: Cart, strict: Bool, usesByCustomer: (Discount) throws -> Int) throws -> [Discount] {
        let rules = rules
        var applied: [Discount] = []
        for code in cart.discountCodes {
            guard let discount = try rules.discounts.first(where: { $0.code?.lowercased() == code.lowercased() }) ?? store.issuedDiscount(code: code) else {
                if strict { throw CheckoutError.discountRejected(code: code, reason: .unknownCode) }
                continue
            }
            if let reason = try rejection(of: discount, for: cart, usesByCustomer: usesByCustomer) {
                if strict { throw CheckoutError.discountRejected(code: code, reason: reason) }
                continue
            }
            applied.append(discount)
        }
        for discount in rules.discounts where discount.code == nil {
            if try rejection(of: discount, for: cart, usesByCustomer: usesByCustomer) == nil { applied.append(discount) }
        }
        return applied
    }

    private func rejection(of discount: Discount, for cart: Cart, usesByCustomer: (Discount) throws -> Int) throws -> Rejection? {
        let now = clock.timestamp
        if discount.disabled { return .disabled }
        if let starts = discount.startsAt, now < starts { return .notStarted }
        if let ends = discount.endsAt, now >= ends { return .ended }
        if let maxUses = discount.maxUses, discount.uses >= maxUses { return .exhausted }
        // Bound to a customer: only a cart that customer was vouched for on (by staff, or their own session).
        if let customer = discount.customerID, customer != cart.customerID || !cart.customerVerified { return .wrongCustomer }
        if let bound = discount.cartID, bound != cart.id.rawValue { return .wrongCart }
        if discount.kind == .fixed, discount.currency != cart.currency { return .currencyMismatch }
        if let minimum = discount.minSubtotal {
            if minimum.currency != cart.currency { return .currencyMismatch }
            if cart.lines.reduce(0, { $0 + $1.lineTotal.amount }) < minimum.amount { return .minSubtotal }
        }
        if let perCustomer = discount.maxUsesPerCustomer, cart.customerKey != nil, try usesByCustomer(discount) >= perCustomer {
            return .customerLimit
        }
        return nil
    }

    /// The cart with its totals worked out; codes that no longer apply are left out of the sums. The
    /// store is read only if a discount limits uses per customer.
    ///
    /// The cart is taken, not borrowed (here and below): a line write's answer is priced from a cart
    /// it has just built, and a copy of a cart is a retain and a release of each of its fields.
    func price(_ cart: consuming Cart) throws -> Cart {
        let customer = cart.customerKey
        return try price(cart) { discount in try uses(of: discount, by: customer) }
    }

    private func price(_ cart: consuming Cart, usesByCustomer: (Discount) throws -> Int) throws -> Cart {
        var cart = cart
        let rules = rules
        let discounts = try self.discounts(for: cart, strict: false, usesByCustomer: usesByCustomer)
        let method = cart.shippingMethod.flatMap { id in rules.shippingMethods.first { $0.id.rawValue == id } }
        let (country, region) = taxPlace(cart, method: method, settings: rules.settings)
        let rate = rules.taxRate(country: country, region: region)?.rateBp ?? 0
        cart.totals = Pricing.totals(Pricing.Input(
            currency: cart.currency, lineTotals: cart.lines.map(\.lineTotal.amount), discounts: discounts, shipping: method,
            taxRateBp: rate, settings: rules.settings))
        return cart
    }

    /// Where tax is due: the shipping address, else the billing address; the shop itself for till
    /// sales and collection in store.
    func taxPlace(_ cart: Cart, method: ShippingMethod?, settings: ShopSettings) -> (String, String?) {
        if cart.channel == .pos || method?.collectInStore != nil { return (settings.shopCountry, settings.shopRegion) }
        if let address = cart.shippingAddress ?? cart.billingAddress { return (address.country, address.region) }
        return (settings.shopCountry, settings.shopRegion)
    }

    /// How many orders of the customer with this key used `discount` (none without a key).
    func uses(of discount: Discount, by customer: String?) throws -> Int {
        guard let customer else { return 0 }
        return try store.uses(of: discount.id, byCustomer: customer)
    }
}
