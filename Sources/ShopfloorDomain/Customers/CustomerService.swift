import Foundation
import Synchronization

/// Customers (API.md, Customers): made by hand at the back office or till and from every order,
/// one per person (found by normalised email, then E.164 phone), with stats and preferences kept
/// current in each order's own transaction; search, segments, consent, merging and erasure.
public final class CustomerService: Sendable {
    let store: any CustomerStore
    let segments: any SegmentStore
    private let orders: any OrderStore
    private let carts: any CartStore
    private let sessions: any ShopperAuthStore
    let writer: any StoreWriter
    let events: EventLog
    let clock: any WallClock
    /// The currency stats and `total_spent` conditions are kept in: the shop's.
    public let currency: Currency

    /// What each SKU is (product, category, attributes), for the purchases and preferences of every
    /// order line: read once, forgotten when the catalogue changes.
    private let variantFacts = Mutex<[String: VariantFacts]>([:])

    public static let maxTags = 50
    public static let maxAddresses = 10
    static let maxRememberedVariants = 50_000

    public init(stores: Stores, events: EventLog, currency: Currency, clock: any WallClock = SystemClock()) {
        store = stores.customers
        segments = stores.segments
        orders = stores.orders
        carts = stores.carts
        sessions = stores.shopperAuth
        writer = stores.writer
        self.events = events
        self.currency = currency
        self.clock = clock
        _ = events.subscribe { [weak self] event in
            guard event.type.hasPrefix("product.") else { return }
            self?.variantFacts.withLock { $0.removeAll() }
        }
    }

    // MARK: Reads

    public func customer(_ id: CustomerID) throws -> Customer {
        guard let customer = try store.customer(id) else { throw CustomerError.notFound(id.rawValue) }
        return customer
    }

    /// Customers newest first, all, by free text, or in a segment, before position `before` (the
    /// previous page's cursor).
    public func customers(query: String?, segment: SegmentID?, limit: Int, before: Int64?) throws -> Page<Customer> {
        var selection = CustomerSelection(words: [], filter: nil)
        if let segment { selection.filter = try filter(of: segment) }
        if let query {
            guard query.unicodeScalars.count <= 200 else { throw ValidationError(field: "q", detail: "must be at most 200 characters") }
            let typed = query.trimmingWhitespace().lowercased()
            if typed.contains("@"), !typed.contains(where: \.isWhitespace), typed.unicodeScalars.allSatisfy(\.isASCII) {
                // An address, or the start of one: a range of the unique email index, not a word search
                // in which the domain (`gmail`) matches most of the shop.
                selection.emailPrefix = typed
            } else {
                selection.words = Self.searchWords(query)
            }
        }
        let limit = max(1, min(limit, 200))
        let found = try store.customers(selection, before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: \.customer)
    }

    /// The words of a search, as the index splits text: letters and digits, lower-cased, diacritics kept
    /// for the index's own folding. At most 8 words.
    static func searchWords(_ query: String) -> [String] {
        Array(query.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init).prefix(8))
    }

    public func consentHistory(of id: CustomerID, limit: Int, before: Int64?) throws -> Page<ConsentChange> {
        _ = try customer(id)
        let limit = max(1, min(limit, 200))
        let found = try store.consentHistory(of: id, before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: { $0 })
    }

    public func timeline(of id: CustomerID, limit: Int, cursor: TimelineEntry.Cursor?) throws -> (items: [TimelineEntry], next: TimelineEntry.Cursor?) {
        _ = try customer(id)
        let limit = max(1, min(limit, 200))
        let found = try store.timeline(of: id, before: cursor, limit: limit + 1)
        return (Array(found.prefix(limit)), found.count > limit ? found[limit - 1].cursor : nil)
    }

    public func views(of id: CustomerID, limit: Int = 20) throws -> [ProductView] {
        try store.views(of: id, limit: limit)
    }

    /// Views of a page of customers, in one read.
    public func views(of ids: [CustomerID], limit: Int = 20) throws -> [CustomerID: [ProductView]] {
        try store.views(of: ids, limit: limit)
    }

    /// The customer with this email or phone (either form the shopper types), or `nil`.
    public func find(email: String?, phone: String?) throws -> Customer? {
        if let email {
            guard let normalised = ContactAddress.email(email) else { throw ValidationError(field: "email", detail: "must be an email address") }
            return try store.customer(email: normalised)
        }
        if let phone {
            guard let normalised = ContactAddress.phone(phone) else {
                throw ValidationError(field: "phone", detail: "must be a phone number in international form, such as +447700900123")
            }
            return try store.customer(phone: normalised)
        }
        return nil
    }

    /// A customer's orders, newest first.
    public func orders(of id: CustomerID, limit: Int, before: Int64?) throws -> Page<Order> {
        let limit = max(1, min(limit, 200))
        let found = try orders.orders(OrderService.Filter(customerID: id.rawValue), before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: \.order)
    }

    /// A customer's carts not yet completed, expired or deleted.
    public func openCarts(of id: CustomerID) throws -> [Cart] {
        try carts.carts(customer: id.rawValue, status: .active, limit: 20)
    }

    /// Every cart of the customer's, newest first (a personal-data export).
    public func carts(of id: CustomerID) throws -> [Cart] {
        try carts.carts(customer: id.rawValue, status: nil, limit: 10_000)
    }

    public func order(_ id: OrderID) throws -> Order? {
        try orders.order(id)
    }

    // MARK: Writing by hand

    /// What a new customer or a change is made of. For a change, `nil` keeps a field and `.some(nil)` clears it.
    public struct Fields: Sendable {
        public var email: String??
        public var phone: String??
        public var firstName: String??
        public var lastName: String??
        public var tags: [String]?
        public var note: String??
        public var locale: String??
        public var timezone: String??
        public var addresses: [Address]?

        public init(email: String?? = nil, phone: String?? = nil, firstName: String?? = nil, lastName: String?? = nil, tags: [String]? = nil,
                    note: String?? = nil, locale: String?? = nil, timezone: String?? = nil, addresses: [Address]? = nil) {
            self.email = email
            self.phone = phone
            self.firstName = firstName
            self.lastName = lastName
            self.tags = tags
            self.note = note
            self.locale = locale
            self.timezone = timezone
            self.addresses = addresses
        }
    }

    /// A customer made at the back office or the till; `source` (`admin`, `pos`) goes into `customer.created`.
    public func create(_ fields: Fields, source: String) async throws -> Customer {
        let now = clock.timestamp
        var customer = Customer(
            id: .make(), email: nil, phone: nil, firstName: nil, lastName: nil, tags: [], note: nil, locale: nil, timezone: nil, addresses: [],
            hasAccount: false, consent: [:], stats: .none, preferences: CustomerPreferences(), erasedAt: nil, createdAt: now, updatedAt: now)
        _ = try apply(fields, to: &customer)
        guard customer.email != nil || customer.phone != nil else {
            throw ValidationError([FieldError(field: "email", detail: "an email or a phone is required"),
                                   FieldError(field: "phone", detail: "an email or a phone is required")])
        }
        let made = customer
        return try await writer.write { transaction in
            try self.checkUnique(made, in: transaction)
            try self.store.insert(made, in: transaction)
            try self.created(made, source: source, in: transaction)
            return made
        }
    }

    /// Changes the fields given; email and phone stay unique.
    public func update(_ id: CustomerID, with fields: Fields) async throws -> Customer {
        try await writer.write { transaction in
            guard var customer = try self.store.customer(id, in: transaction) else { throw CustomerError.notFound(id.rawValue) }
            if customer.erasedAt != nil { throw CustomerError.erased(id) }
            let changed = try self.apply(fields, to: &customer)
            guard customer.email != nil || customer.phone != nil else {
                throw ValidationError(field: "email", detail: "cannot be cleared while there is no phone")
            }
            guard !changed.isEmpty else { return customer }
            customer.updatedAt = self.clock.timestamp
            try self.checkUnique(customer, in: transaction)
            try self.store.update(customer, in: transaction)
            try self.events.append(type: "customer.updated", topic: "customers",
                                   data: CustomerUpdated(customerID: id.rawValue, fields: changed), in: transaction)
            return customer
        }
    }

    /// Checks `fields` and writes them into `customer`, returning the names of those that changed.
    private func apply(_ fields: Fields, to customer: inout Customer) throws(ValidationError) -> [String] {
        var validator = Validator()
        var changed: [String] = []
        func set<T: Equatable>(_ keyPath: WritableKeyPath<Customer, T>, _ value: T, _ name: String) {
            if customer[keyPath: keyPath] != value {
                customer[keyPath: keyPath] = value
                changed.append(name)
            }
        }
        if let email = fields.email {
            let normalised = email.flatMap(ContactAddress.email)
            validator.check(email == nil || normalised != nil, "email", "must be an email address")
            set(\.email, normalised, "email")
        }
        if let phone = fields.phone {
            let normalised = phone.flatMap(ContactAddress.phone)
            validator.check(phone == nil || normalised != nil, "phone", "must be a phone number in international form, such as +447700900123")
            set(\.phone, normalised, "phone")
        }
        for (value, keyPath, name) in [(fields.firstName, \Customer.firstName, "first_name"), (fields.lastName, \Customer.lastName, "last_name")] {
            guard let value else { continue }
            validator.text(value, name, max: 100, required: false)
            set(keyPath, value, name)
        }
        if let note = fields.note {
            validator.text(note, "note", max: 5000, required: false)
            set(\.note, note, "note")
        }
        if let locale = fields.locale {
            validator.check(locale.map(Self.isLocale) ?? true, "locale", "must be a language tag such as en-GB")
            set(\.locale, locale, "locale")
        }
        if let timezone = fields.timezone {
            validator.check(timezone.map { TimeZone(identifier: $0) != nil } ?? true, "timezone", "must be an IANA time zone such as Europe/London")
            set(\.timezone, timezone, "timezone")
        }
        if let tags = fields.tags {
            validator.check(tags.count <= Self.maxTags, "tags", "holds at most \(Self.maxTags) tags")
            var seen: Set<String> = []
            var kept: [String] = []
            for (index, tag) in tags.enumerated() {
                validator.text(tag, "tags[\(index)]", max: 64)
                if seen.insert(tag.lowercased()).inserted { kept.append(tag) }
            }
            set(\.tags, kept, "tags")
        }
        if let addresses = fields.addresses {
            validator.check(addresses.count <= Self.maxAddresses, "addresses", "holds at most \(Self.maxAddresses) addresses")
            for (index, address) in addresses.enumerated() { address.validate("addresses[\(index)]", into: &validator) }
            set(\.addresses, addresses, "addresses")
        }
        try validator.throwIfAny()
        return changed
    }

    static func isLocale(_ text: String) -> Bool {
        text.utf8.count <= 35 && text.range(of: "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", options: .regularExpression) != nil
    }

    private func checkUnique(_ customer: Customer, in transaction: any WriteTransaction) throws {
        if let email = customer.email, let other = try store.customer(email: email, in: transaction), other.id != customer.id {
            throw CustomerError.duplicate(field: "email", customerID: other.id)
        }
        if let phone = customer.phone, let other = try store.customer(phone: phone, in: transaction), other.id != customer.id {
            throw CustomerError.duplicate(field: "phone", customerID: other.id)
        }
    }

    func created(_ customer: Customer, source: String, in transaction: any WriteTransaction) throws {
        try events.append(type: "customer.created", topic: "customers", data: CustomerCreated(customerID: customer.id.rawValue, source: source),
                          in: transaction)
    }

    // MARK: Consent

    /// Records a change of consent on one channel in the ledger and as it now stands.
    public func setConsent(_ id: CustomerID, channel: ConsentChannel, state: Consent.State, level: Consent.Level?, source: String) async throws -> Consent {
        var validator = Validator()
        validator.text(source, "source", max: 64)
        validator.check(level == nil || state == .subscribed, "level", "applies to subscribed only")
        try validator.throwIfAny()
        return try await writer.write { transaction in
            guard let customer = try self.store.customer(id, in: transaction) else { throw CustomerError.notFound(id.rawValue) }
            if customer.erasedAt != nil { throw CustomerError.erased(id) }
            return try self.recordConsent(customer.id, channel: channel, state: state, level: level, source: source, in: transaction)
        }
    }

    /// Consent given or withdrawn, written with its ledger entry and `consent.changed`.
    @discardableResult
    func recordConsent(_ id: CustomerID, channel: ConsentChannel, state: Consent.State, level: Consent.Level?, source: String,
                       in transaction: any WriteTransaction) throws -> Consent {
        let consent = Consent(state: state, level: state == .subscribed ? level ?? .singleOptIn : nil, source: source, updatedAt: clock.timestamp)
        try store.setConsent(consent, channel: channel, of: id, in: transaction)
        try events.append(type: "consent.changed", topic: "customers",
                          data: ConsentChanged(customerID: id.rawValue, channel: channel.rawValue, state: state.rawValue, source: source),
                          in: transaction)
        return consent
    }

    /// A one-click unsubscribe of `address` on `channel`: the customer with that address, if any,
    /// becomes `unsubscribed` there (once: a repeated click changes nothing more).
    public func unsubscribed(_ address: String, channel: ConsentChannel, source: String, in transaction: any WriteTransaction) throws {
        let customer: Customer? = switch channel {
        case .email: try ContactAddress.email(address).flatMap { try store.customer(email: $0, in: transaction) }
        case .sms: try ContactAddress.phone(address).flatMap { try store.customer(phone: $0, in: transaction) }
        case .push: nil
        }
        guard let customer, customer.consent[channel]?.state != .unsubscribed else { return }
        try recordConsent(customer.id, channel: channel, state: .unsubscribed, level: nil, source: source, in: transaction)
    }

    // MARK: Orders make customers (inside checkout's transaction)

    /// The customer an order being placed from `cart` belongs to: the cart's own, else the one with its
    /// email, else with its phone (the cart's, else the shipping address's in international form), else
    /// a new one (`customer.created`). A customer found by one learns the other when they had none. A
    /// cart with neither email nor phone nor customer stays anonymous. Read lightly: this runs in every
    /// checkout's transaction.
    func customer(placing cart: Cart, in transaction: any WriteTransaction) throws -> CustomerID? {
        if let id = cart.customerID, let contact = try store.contact(CustomerID(rawValue: id), in: transaction) {
            return contact.id
        }
        let email = cart.email.flatMap(ContactAddress.email)
        let phone = cart.phone ?? cart.shippingAddress?.phone.flatMap(ContactAddress.phone)
        if let email, let found = try store.contact(email: email, in: transaction) {
            if found.phone == nil, let phone, try store.contact(phone: phone, in: transaction) == nil {
                // The CRM learns the phone the customer gave with this order.
                try learn(\.phone, "phone", phone, for: found.id, in: transaction)
            }
            return found.id
        }
        if let phone, let found = try store.contact(phone: phone, in: transaction) {
            if found.email == nil, let email {
                // The phone-only customer of an earlier till sale now has an email too (no one has it: looked up above).
                try learn(\.email, "email", email, for: found.id, in: transaction)
            }
            return found.id
        }
        guard email != nil || phone != nil else { return nil }
        let now = clock.timestamp
        let name = (cart.shippingAddress ?? cart.billingAddress)?.name.split(separator: " ", maxSplits: 1).map(String.init) ?? []
        let customer = Customer(
            id: .make(), email: email, phone: phone, firstName: name.first, lastName: name.count > 1 ? name[1] : nil, tags: [], note: nil,
            locale: nil, timezone: nil, addresses: [], hasAccount: false, consent: [:], stats: .none,
            preferences: CustomerPreferences(), erasedAt: nil, createdAt: now, updatedAt: now)
        try store.insert(customer, in: transaction)
        try created(customer, source: "order", in: transaction)
        return customer.id
    }

    /// An email or phone the customer gave with an order, kept when they had none (`customer.updated`).
    private func learn(_ keyPath: WritableKeyPath<Customer, String?>, _ field: String, _ value: String, for id: CustomerID,
                       in transaction: any WriteTransaction) throws {
        guard var customer = try store.customer(id, in: transaction) else { return }
        customer[keyPath: keyPath] = value
        customer.updatedAt = clock.timestamp
        try store.update(customer, in: transaction)
        try events.append(type: "customer.updated", topic: "customers", data: CustomerUpdated(customerID: id.rawValue, fields: [field]),
                          in: transaction)
    }

    /// Counts a placed order into its customer's stats, preferences, addresses and purchases.
    func record(_ order: Order, of customer: CustomerID, in transaction: any WriteTransaction) throws {
        var units: [PreferenceUnits] = []
        var purchases: [Purchase] = []
        for line in order.lines {
            let facts = try facts(of: line.sku, in: transaction)
            for row in CustomerPreferences.units(category: facts?.category, attributes: facts?.attributes ?? [:], units: line.quantity) {
                // One entry per dimension and value: the store adds each once.
                if let index = units.firstIndex(where: { $0.dimension == row.dimension && $0.value == row.value }) {
                    units[index].units += row.units
                } else {
                    units.append(row)
                }
            }
            purchases.append(Purchase(sku: line.sku, productID: facts?.productID, category: facts?.category,
                                      location: order.location ?? line.allocations.first?.location, quantity: line.quantity, at: order.createdAt))
        }
        try store.recordOrder(
            OrderActivity(customerID: customer, orderID: order.id, amount: order.currency == currency ? order.totals.total.amount : 0,
                          at: order.createdAt, address: order.shippingAddress, maxAddresses: Self.maxAddresses, units: units,
                          purchases: purchases),
            in: transaction)
    }

    private func facts(of sku: String, in transaction: any WriteTransaction) throws -> VariantFacts? {
        if let known = variantFacts.withLock({ $0[sku] }) { return known }
        guard let read = try store.variantFacts(sku: sku, in: transaction) else { return nil }
        variantFacts.withLock { known in
            if known.count >= Self.maxRememberedVariants { known.removeAll() }
            known[sku] = read
        }
        return read
    }

    /// Takes a cancelled or refunded order back out of its customer's `total_spent` (orders in the
    /// shop's currency count there) and purchases: it bought nothing.
    func withdraw(_ order: Order, in transaction: any WriteTransaction) throws {
        guard let id = order.customerID.map(CustomerID.init(rawValue:)) else { return }
        try store.withdraw(order.id, amount: order.currency == currency ? order.totals.total.amount : 0, from: id, at: clock.timestamp,
                           in: transaction)
    }

    // MARK: Merging and erasure

    /// Folds `from` into `id`: orders, carts, consent, activity and messages move, stats and
    /// preferences add up, tags and addresses join, `from`'s email or phone fill gaps; `from` is then
    /// gone. Refused when both have signed in (each has an account of their own).
    public func merge(_ id: CustomerID, from: CustomerID, actor: String) async throws -> Customer {
        guard id != from else { throw ValidationError(field: "from", detail: "must be another customer") }
        return try await writer.write { transaction in
            guard var kept = try self.store.customer(id, in: transaction) else { throw CustomerError.notFound(id.rawValue) }
            guard let gone = try self.store.customer(from, in: transaction) else {
                throw ValidationError(field: "from", detail: "names no customer")
            }
            if kept.erasedAt != nil { throw CustomerError.erased(id) }
            if gone.erasedAt != nil { throw CustomerError.erased(from) }
            if kept.hasAccount && gone.hasAccount { throw CustomerError.bothHaveAccounts }
            kept.email = kept.email ?? gone.email
            kept.phone = kept.phone ?? gone.phone
            kept.firstName = kept.firstName ?? gone.firstName
            kept.lastName = kept.lastName ?? gone.lastName
            kept.locale = kept.locale ?? gone.locale
            kept.timezone = kept.timezone ?? gone.timezone
            kept.note = [kept.note, gone.note].compactMap { $0 }.joined(separator: "\n\n").nilIfEmpty
            for tag in gone.tags where !kept.tags.contains(where: { $0.lowercased() == tag.lowercased() }) { kept.tags.append(tag) }
            for address in gone.addresses where !kept.addresses.contains(address) { kept.addresses.append(address) }
            kept.addresses = Array(kept.addresses.prefix(Self.maxAddresses))
            kept.hasAccount = kept.hasAccount || gone.hasAccount
            kept.stats = Self.combined(kept.stats, gone.stats)
            for (category, units) in gone.preferences.categories { kept.preferences.categories[category, default: 0] += units }
            for (name, values) in gone.preferences.attributes {
                for (value, units) in values { kept.preferences.attributes[name, default: [:]][value, default: 0] += units }
            }
            kept.updatedAt = self.clock.timestamp
            // `from` goes first, so its email and phone are free for the kept record.
            try self.store.merge(from, into: id, in: transaction)
            try self.store.update(kept, in: transaction)
            for channel in ConsentChannel.allCases {
                // The newer decision wins: an unsubscribe on either record is never lost to an older opt-in.
                guard let moved = gone.consent[channel], let at = moved.updatedAt,
                      kept.consent[channel]?.updatedAt.map({ $0 < at }) ?? true else { continue }
                try self.recordConsent(id, channel: channel, state: moved.state, level: moved.level, source: "merge", in: transaction)
            }
            try self.store.audit(id, action: "merge", actor: actor, detail: "merged \(from)", at: kept.updatedAt, in: transaction)
            try self.events.append(type: "customer.merged", topic: "customers", data: CustomerMerged(customerID: id.rawValue, from: from.rawValue),
                                   in: transaction)
            guard let merged = try self.store.customer(id, in: transaction) else { throw CustomerError.notFound(id.rawValue) }
            return merged
        }
    }

    static func combined(_ a: CustomerStats, _ b: CustomerStats) -> CustomerStats {
        CustomerStats(
            ordersCount: a.ordersCount + b.ordersCount, totalSpent: a.totalSpent + b.totalSpent,
            firstOrderAt: [a.firstOrderAt, b.firstOrderAt].compactMap { $0 }.min(), lastOrderAt: [a.lastOrderAt, b.lastOrderAt].compactMap { $0 }.max())
    }

    /// Erases the person (API.md, Customers `DELETE`): their data leaves the customer record, its carts,
    /// orders, messages and the event log, sessions end and push subscriptions go; orders and their totals
    /// stay for the books, and the record stays as `erased` so the orders still point somewhere.
    public func erase(_ id: CustomerID, actor: String) async throws {
        try await writer.write { transaction in
            guard let customer = try self.store.customer(id, in: transaction) else { throw CustomerError.notFound(id.rawValue) }
            guard customer.erasedAt == nil else { return }
            var personal = [customer.email, customer.phone, customer.firstName, customer.lastName, customer.fullName, customer.note]
                .compactMap { $0 }
            for address in customer.addresses {
                personal += [address.name, address.line1, address.line2, address.phone].compactMap { $0 }
            }
            let now = self.clock.timestamp
            try self.store.erase(id, redact: Array(Set(personal.filter { $0.count >= 3 })).sorted { $0.count > $1.count }, at: now, in: transaction)
            try self.sessions.deleteSessions(of: id, in: transaction)
            try self.store.audit(id, action: "erase", actor: actor, detail: "personal data erased", at: now, in: transaction)
            try self.events.append(type: "customer.erased", topic: "customers", data: CustomerErased(customerID: id.rawValue), in: transaction)
        }
    }

    // MARK: Segments

    /// The filter of a stored segment, with its relative times resolved to now.
    func filter(of id: SegmentID, at instant: Date? = nil) throws -> SegmentFilter {
        guard let segment = try segments.segment(id) else { throw CustomerError.segmentNotFound(id.rawValue) }
        return try SegmentFilter.parse(segment.definition, currency: currency).resolved(now: instant ?? clock.now())
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// The payload of `customer.created`: no personal data, only the id and how it was made.
struct CustomerCreated: Encodable {
    var customerID: String
    var source: String
}

/// The payload of `customer.updated`: the names of the fields that changed, never their values.
struct CustomerUpdated: Encodable {
    var customerID: String
    var fields: [String]
}

struct CustomerMerged: Encodable {
    var customerID: String
    var from: String
}

struct CustomerErased: Encodable {
    var customerID: String
}

struct ConsentChanged: Encodable {
    var customerID: String
    var channel: String
    var state: String
    var source: String
}
