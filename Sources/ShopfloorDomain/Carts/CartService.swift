import Foundation
public import ShopfloorJSON
import Synchronization

/// The live cart: creating carts, adding and changing lines with their units reserved through the SKU
/// actors, deleting, and expiring carts whose time-to-live has run out.
///
/// Operations on one cart run one at a time (``KeyedLock``), so a line's quantity is never read and
/// changed by two requests at once; different carts proceed in parallel, meeting only at the SKU actors.
/// Every write commits before the caller hears of it, with its `cart.*` and `stock.changed` events.
public final class CartService: Sendable {
    let store: any CartStore
    /// A cart's `customer_id` must name one of them.
    let customers: any CustomerStore
    let writer: any StoreWriter
    let clock: any WallClock
    let stock: StockRegistry
    let pricing: PricingService
    let events: EventLog
    private let ttl: Duration
    /// The longest a cart holds stock from its creation, however often it is written.
    let maxHold: Duration
    /// Most units of one SKU in an online cart; till carts go up to ``maxQuantity``.
    let maxUnitsPerSKU: Int
    /// One operation at a time per cart; checkout takes the same lock.
    let locks = KeyedLock()
    /// The heap and the carts that have an entry in it: one entry per cart, so memory follows the
    /// number of active carts, not the number of writes.
    private let deadlines = Mutex((heap: ExpiryHeap(), scheduled: Set<String>()))
    /// What line writes leave for the next one, so a write to a warm cart reads nothing first.
    private let memory = CartMemory()

    /// Most units of one SKU in one cart.
    public static let maxQuantity = 10_000
    /// Largest `customisation`, encoded.
    public static let maxCustomisationBytes = 16 * 1024

    public init(stores: Stores, events: EventLog, stock: StockRegistry, pricing: PricingService, reservationTTL: Duration,
                maxHold: Duration = .seconds(3 * 3600), maxUnitsPerSKU: Int = CartService.maxQuantity, clock: any WallClock = SystemClock()) {
        self.maxHold = maxHold
        self.maxUnitsPerSKU = maxUnitsPerSKU
        store = stores.carts
        customers = stores.customers
        writer = stores.writer
        self.clock = clock
        self.stock = stock
        self.pricing = pricing
        self.events = events
        ttl = reservationTTL
        _ = events.subscribe { [weak self] event in
            // A merge or an erasure rewrites carts behind the cart's own writes.
            guard event.type.hasPrefix("product.") || event.type.hasPrefix("location.") || event.type == "customer.merged"
                || event.type == "customer.erased" else { return }
            self?.memory.forgetAll()
        }
    }

    // MARK: Reads

    /// The cart with its totals priced (discounts, shipping, tax).
    public func cart(_ id: CartID) throws -> Cart? {
        try store.cart(id).map { try pricing.price($0) }
    }

    /// Carts holding units now and the units they hold, for metrics.
    public func reservationTotals() throws -> (carts: Int, units: Int) {
        try store.reservationTotals()
    }

    /// Carts by status (all when `nil`), oldest first, for the back office.
    public func carts(status: Cart.Status?, limit: Int, after: Int64?) throws -> Page<Cart> {
        let limit = max(1, min(limit, 200))
        let found = try store.carts(status: status, after: after ?? 0, limit: limit + 1)
        let next = found.count > limit ? ProductQuery.Cursor.after(seq: found[limit - 1].position).token : nil
        return Page(items: try found.prefix(limit).map { try pricing.price($0.cart) }, nextCursor: next)
    }

    // MARK: Writes

    /// A cart's customer must exist and not be erased.
    func checkCustomer(_ id: String?) throws {
        guard let id else { return }
        guard let customer = try customers.customer(CustomerID(rawValue: id)), customer.erasedAt == nil else {
            throw ValidationError(field: "customer_id", detail: "names no customer")
        }
    }

    /// A new active cart. `customerVerified`: the caller vouches for `customerID` (a staff key, the
    /// customer's own session, or the server itself), so discounts bound to that customer apply to it.
    public func create(channel: Cart.Channel, location: Location?, customerID: String?, currency: Currency,
                       customerVerified: Bool = false) async throws -> Cart {
        var validator = Validator()
        validator.check(channel == .online || location != nil, "location", "is required for a pos cart")
        validator.check(channel == .pos || location == nil, "location", "applies to pos carts only")
        validator.text(customerID, "customer_id", max: 64, required: false)
        try validator.throwIfAny()
        try checkCustomer(customerID)
        let id = CartID.make()
        let (now, expiresAt, expiresMs) = stamps()
        let till = channel == .pos ? location : nil
        let cart = Cart(
            id: id, channel: channel, status: .active, location: till?.code, customerID: customerID, email: nil, currency: currency,
            checkoutStep: "cart", shippingAddress: nil, billingAddress: nil, shippingMethod: nil, discountCodes: [], lines: [],
            expiresAt: expiresAt, createdAt: now, updatedAt: now, customerVerified: customerID != nil && customerVerified)
        try await writer.write { transaction in
            try self.store.insert(cart, location: till?.id, expiresAtMilliseconds: expiresMs, in: transaction)
            try self.events.append(type: "cart.created", topic: "cart:\(id)", data: cart, in: transaction)
        }
        schedule(id, at: expiresMs)
        return cart
    }

    /// Adds units of a SKU (to its line if the cart has one), reserving them at once. An expired cart
    /// is reactivated if every line's units can be reserved again.
    public func addLine(_ id: CartID, sku: String, quantity: Int, customisation: JSONValue?) async throws -> Cart {
        try validate(quantity: quantity, customisation: customisation)
        return try await locks.withLock(id.rawValue) {
            let context = try self.context(id, variant: sku)
            let (cart, locations) = (context.cart, context.locations)
            guard let variant = context.variant else { throw InventoryError.unknownSKU(sku) }
            guard variant.active else { throw CartError.notForSale(sku) }
            guard variant.currency == cart.currency.code else {
                throw CartError.currencyMismatch(sku: sku, cart: cart.currency.code, price: variant.currency)
            }
            let existing = cart.lines.first { $0.sku == sku }
            guard (existing?.quantity ?? 0) + quantity <= Self.maxQuantity else {
                throw ValidationError(field: "quantity", detail: "a line holds at most \(Self.maxQuantity) units")
            }
            try self.checkLimits(cart, sku: sku, quantity: (existing?.quantity ?? 0) + quantity)
            let reactivated = try await self.reactivateIfExpired(cart, from: locations)
            let (now, expiresAt, expiresMs) = self.stamps(for: cart)
            let lineID = existing?.id ?? CartLineID.make()
            let activating = cart.status != .active
            let taken: [Allocation]
            do {
                taken = try await self.stock.withStock(sku) { stock in
                    try await stock.reserve(quantity, from: locations, actor: "cart:\(id)") { transaction, allocations in
                        try self.store.addReservations(allocations, cart: id, sku: sku, in: transaction)
                        if let existing {
                            try self.store.setLine(cart: id, sku: sku, quantity: existing.quantity + quantity, customisation: customisation,
                                                   in: transaction)
                        } else {
                            try self.store.appendLine(lineID, cart: id, sku: sku, quantity: quantity, customisation: customisation, in: transaction)
                        }
                        try self.store.touch(id, expiresAt: expiresAt, expiresAtMilliseconds: expiresMs, updatedAt: now, activating: activating,
                                             in: transaction)
                        try self.events.append(type: existing == nil ? "cart.line_added" : "cart.line_updated", topic: "cart:\(id)",
                            data: LineEvent(cartID: id.rawValue, lineID: lineID.rawValue, sku: sku,
                                            quantity: (existing?.quantity ?? 0) + quantity, title: variant.title, customisation: customisation),
                            in: transaction)
                        return allocations
                    }
                }
            } catch {
                if reactivated != nil { throw try await self.undoReactivation(of: id, after: error, from: locations) }
                throw error
            }
            self.schedule(id, at: expiresMs)
            // What was just committed, built from what was read under the same lock: no second read.
            var lines = cart.lines
            if let existing {
                lines = Self.lines(lines, setting: lineID, quantity: existing.quantity + quantity, customisation: customisation)
            } else {
                var line = CartLine(id: lineID, sku: sku, title: variant.title, quantity: 0, unitPrice: Money(amount: variant.price, currency: cart.currency),
                                    lineTotal: Money(amount: 0, currency: cart.currency), customisation: customisation.map(Self.stored))
                line.setQuantity(quantity)
                lines.append(line)
            }
            var held = reactivated ?? context.held
            held[sku] = (held[sku] ?? []).adding(taken)
            return try self.committed(cart, lines: lines, held: held, touched: (expiresAt, now), generation: context.generation)
        }
    }

    /// Changes a line's quantity (reserving or releasing the difference) or its customisation.
    public func updateLine(_ id: CartID, line lineID: CartLineID, quantity: Int?, customisation: JSONValue?) async throws -> Cart {
        try validate(quantity: quantity ?? 1, customisation: customisation)
        guard quantity != nil || customisation != nil else { throw ValidationError(field: "quantity", detail: "give quantity or customisation") }
        return try await locks.withLock(id.rawValue) {
            let context = try self.context(id, variant: nil)
            let (cart, locations) = (context.cart, context.locations)
            guard let line = cart.lines.first(where: { $0.id == lineID }) else { throw CartError.lineNotFound(lineID.rawValue) }
            let newQuantity = quantity ?? line.quantity
            // A write that changes nothing is no write: it does not renew the cart's hold either.
            if newQuantity == line.quantity, customisation.map(Self.stored) == line.customisation, cart.status == .active {
                return try self.committed(cart, lines: cart.lines, held: context.held, touched: nil, generation: context.generation)
            }
            if newQuantity > line.quantity || cart.status != .active {
                try self.checkLimits(cart, sku: line.sku, quantity: max(newQuantity, line.quantity))
            }
            let reactivated = try await self.reactivateIfExpired(cart, from: locations)
            // An expired cart held nothing when it was read; it holds its lines again now.
            var held = reactivated ?? context.held
            let (now, expiresAt, expiresMs) = self.stamps(for: cart)
            let delta = newQuantity - line.quantity
            let activating = cart.status != .active
            let record: @Sendable (any WriteTransaction) throws -> Void = { transaction in
                try self.store.setLine(cart: id, sku: line.sku, quantity: newQuantity, customisation: customisation, in: transaction)
                try self.store.touch(id, expiresAt: expiresAt, expiresAtMilliseconds: expiresMs, updatedAt: now, activating: activating,
                                     in: transaction)
                try self.events.append(type: "cart.line_updated", topic: "cart:\(id)",
                    data: LineEvent(cartID: id.rawValue, lineID: lineID.rawValue, sku: line.sku, quantity: newQuantity, title: line.title,
                                    customisation: customisation ?? line.customisation),
                    in: transaction)
            }
            do {
                if delta > 0 {
                    let taken = try await self.stock.withStock(line.sku) { stock in
                        try await stock.reserve(delta, from: locations, actor: "cart:\(id)") { transaction, allocations in
                            try self.store.addReservations(allocations, cart: id, sku: line.sku, in: transaction)
                            try record(transaction)
                            return allocations
                        }
                    }
                    held[line.sku] = (held[line.sku] ?? []).adding(taken)
                } else if delta < 0 {
                    let allocations = (held[line.sku] ?? []).taking(-delta)
                    try await self.stock.withStock(line.sku) { stock in
                        try await stock.release(allocations, actor: "cart:\(id)") { transaction in
                            try self.store.removeReservations(allocations, cart: id, sku: line.sku, in: transaction)
                            try record(transaction)
                        }
                    }
                    held[line.sku] = (held[line.sku] ?? []).adding(allocations, sign: -1)
                } else {
                    try await self.writer.write { try record($0) }
                }
            } catch {
                if reactivated != nil { throw try await self.undoReactivation(of: id, after: error, from: locations) }
                throw error
            }
            self.schedule(id, at: expiresMs)
            let lines = Self.lines(cart.lines, setting: lineID, quantity: newQuantity, customisation: customisation)
            return try self.committed(cart, lines: lines, held: held, touched: (expiresAt, now), generation: context.generation)
        }
    }

    /// Removes a line and returns its units to stock.
    public func removeLine(_ id: CartID, line lineID: CartLineID) async throws -> Cart {
        try await locks.withLock(id.rawValue) {
            let context = try self.context(id, variant: nil)
            let cart = context.cart
            guard let line = cart.lines.first(where: { $0.id == lineID }) else { throw CartError.lineNotFound(lineID.rawValue) }
            let allocations = (context.held[line.sku] ?? []).taking(nil)
            let (now, expiresAt, expiresMs) = self.stamps(for: cart)
            let active = cart.status == .active
            let record: @Sendable (any WriteTransaction) throws -> Void = { transaction in
                try self.store.deleteReservations(cart: id, sku: line.sku, held: allocations, in: transaction)
                try self.store.deleteLine(cart: id, sku: line.sku, in: transaction)
                if active {
                    try self.store.touch(id, expiresAt: expiresAt, expiresAtMilliseconds: expiresMs, updatedAt: now, activating: false,
                                         in: transaction)
                }
                try self.events.append(type: "cart.line_removed", topic: "cart:\(id)",
                    data: LineEvent(cartID: id.rawValue, lineID: lineID.rawValue, sku: line.sku, quantity: 0, title: line.title), in: transaction)
            }
            if allocations.isEmpty {
                try await self.writer.write { try record($0) }
            } else {
                try await self.stock.withStock(line.sku) { stock in
                    try await stock.release(allocations, actor: "cart:\(id)", record: record)
                }
            }
            let lines = cart.lines.filter { $0.id != lineID }
            var held = context.held
            held[line.sku] = nil
            guard cart.status == .active else {
                return try self.committed(cart, lines: lines, held: held, touched: nil, generation: context.generation)
            }
            self.schedule(id, at: expiresMs)
            return try self.committed(cart, lines: lines, held: held, touched: (expiresAt, now), generation: context.generation)
        }
    }

    /// Deletes a cart and returns every reserved unit to stock.
    public func delete(_ id: CartID) async throws {
        try await locks.withLock(id.rawValue) {
            _ = try self.open(id)
            try await self.close(id, as: .deleted, event: "cart.deleted")
        }
    }

    // MARK: Expiry

    /// Expires every cart whose deadline has passed, then checks again every `tick`, until cancelled.
    /// One heap of deadlines drives all carts; there is no task per cart.
    public func runExpiry(tick: Duration = .milliseconds(250), onError: @Sendable (any Error) -> Void = { _ in }) async {
        while !Task.isCancelled {
            await expireDue(onError: onError)
            try? await Task.sleep(for: tick)
        }
    }

    /// Expires every cart whose deadline has passed by the clock, once: the expiry loop's step, and
    /// what a test calls after moving its clock on.
    public func expireDue(onError: @Sendable (any Error) -> Void = { _ in }) async {
        let now = clock.milliseconds
        let due = deadlines.withLock { state in
            let due = state.heap.popDue(now: now)
            for entry in due { state.scheduled.remove(entry.cart) }
            return due
        }
        for cart in Set(due.map(\.cart)) {
            do { try await expire(CartID(rawValue: cart)) } catch { onError(error) }
        }
    }

    /// Expires a cart if it is still active and past its deadline (a later write may have moved it).
    func expire(_ id: CartID) async throws {
        try await locks.withLock(id.rawValue) {
            guard let (status, deadline) = try self.store.deadline(of: id), status == .active else { return }
            guard deadline <= self.clock.milliseconds else {
                self.schedule(id, at: deadline)
                return
            }
            try await self.close(id, as: .expired, event: "cart.expired")
        }
    }

    /// After a start: releases what carts that stopped being active still hold (a crash between the
    /// status change and the releases), and schedules every active cart, so carts that expired while
    /// the server was down are released on the first tick.
    public func recover() async throws {
        let (active, stale) = try store.recovery()
        for id in stale {
            try await locks.withLock(id.rawValue) { try await self.releaseReservations(of: id) }
        }
        for (id, deadline) in active {
            schedule(id, at: deadline)
        }
    }

    // MARK: Helpers

    /// What a line write starts from, under the cart's lock.
    private struct WriteContext {
        var cart: Cart
        var held: [String: [Allocation]]
        /// The variant of the SKU being added; `nil` for an unknown SKU (or when none was asked for).
        var variant: CartVariant?
        var locations: [Location]
        var generation: UInt64
    }

    /// The cart (which must be open), what it holds, where it reserves from and, for an add, the
    /// SKU's variant: from memory where a write left them, the rest from the store in one read.
    /// Never inlined, like ``committed(_:lines:held:touched:generation:)``: inside the line writes' async
    /// closures their cart-sized temporaries would sit in the task's frame (16 KB for `removeLine`,
    /// allocated per request); called, they live on the thread's stack.
    @inline(never)
    private func context(_ id: CartID, variant sku: String?) throws -> WriteContext {
        let generation = memory.generation
        let entry = memory.entry(id)
        var cart = entry?.cart
        var held = entry?.held ?? [:]
        var variant = sku.flatMap(memory.variant)
        var locations = cart.flatMap { memory.locations(Self.locationKey($0)) }
        var read: (variant: CartVariant?, locations: [Location]?) = (nil, nil)
        if cart == nil || (sku != nil && variant == nil) || locations == nil {
            let reading = try store.lineWriteReading(id, known: cart, variant: variant == nil ? sku : nil, locations: locations == nil)
            if cart == nil {
                cart = try Self.open(id, reading.cart)
                held = reading.held
            }
            if variant == nil, let found = reading.variant {
                variant = found
                read.variant = found
            }
            if locations == nil {
                locations = reading.locations
                read.locations = reading.locations
            }
        }
        guard let cart, let locations else { throw CartError.notFound(id.rawValue) }
        if read.variant != nil || read.locations != nil {
            memory.remember(nil, variant: sku.flatMap { sku in read.variant.map { (sku, $0) } },
                            locations: read.locations.map { (Self.locationKey(cart), $0) }, since: generation)
        }
        return WriteContext(cart: cart, held: held, variant: variant, locations: locations, generation: generation)
    }

    /// `cart` as a write under its lock has just left it (these lines and holdings and, if the write
    /// touched it, active with the new times): remembered for the next write, and priced for the answer.
    /// Never inlined, for the reason ``context(_:variant:)`` gives.
    @inline(never)
    private func committed(_ cart: consuming Cart, lines: [CartLine], held: [String: [Allocation]], touched: (expiresAt: String, updatedAt: String)?,
                           generation: UInt64) throws -> Cart {
        var cart = cart
        if let touched {
            cart.status = .active
            cart.expiresAt = touched.expiresAt
            cart.updatedAt = touched.updatedAt
        }
        cart.setLines(lines)
        memory.remember(CartMemory.Entry(cart: cart, held: held.filter { !$0.value.isEmpty }), since: generation)
        return try pricing.price(cart)
    }

    /// Under the cart's lock, before changing the cart other than through a line write (the lock
    /// keeps any line write of this cart from remembering it meanwhile).
    func forget(_ id: CartID) {
        memory.forget(id)
    }

    /// Which locations a cart reserves from, as a memory key.
    private static func locationKey(_ cart: Cart) -> String {
        cart.channel == .pos ? "pos:" + (cart.location ?? "") : "online"
    }

    /// `lines` with one line's quantity set and, if given, its customisation replaced, as the store's
    /// ``CartStore/setLine(cart:sku:quantity:customisation:in:)`` leaves them.
    private static func lines(_ lines: [CartLine], setting id: CartLineID, quantity: Int, customisation: JSONValue?) -> [CartLine] {
        var lines = lines
        if let index = lines.firstIndex(where: { $0.id == id }) {
            lines[index].setQuantity(quantity)
            if let customisation { lines[index].customisation = stored(customisation) }
        }
        return lines
    }

    /// A customisation as it reads back from the store (encoded, then parsed), so an answer built in
    /// memory says exactly what a later read will.
    private static func stored(_ customisation: JSONValue) -> JSONValue {
        (try? JSONCoding.encode(customisation)).flatMap { try? JSONParser.parse($0) } ?? customisation
    }

    func close(_ id: CartID, as status: Cart.Status, event: String) async throws {
        forget(id)
        try await releaseReservations(of: id, closingAs: (status, event))
    }

    /// Returns every unit the cart holds, in one transaction with the status change if there is one, so
    /// nobody sees the cart closed with units still held. The SKU actors take note after the commit
    /// (``StockRegistry/settling(_:as:_:)``).
    func releaseReservations(of id: CartID, closingAs closing: (status: Cart.Status, event: String)? = nil) async throws {
        let release = try store.held(by: id)
        let now = clock.timestamp
        try await stock.settling(release, as: .released) {
            try await writer.write { transaction in
                if let closing {
                    try self.store.setStatus(id, closing.status, updatedAt: now, in: transaction)
                    guard let cart = try self.store.cart(id, in: transaction) else { throw CartError.notFound(id.rawValue) }
                    try self.events.append(type: closing.event, topic: "cart:\(id)", data: cart, in: transaction)
                }
                for (sku, allocations) in release.sorted(by: { $0.key < $1.key }) {
                    for allocation in allocations {
                        try self.stock.ledger.apply(
                            StockLedger.Change(sku: sku, location: allocation.location, onHandDelta: 0, reservedDelta: -allocation.quantity,
                                               reason: "released", actor: "cart:\(id)"), in: transaction)
                    }
                }
                try self.store.deleteReservations(cart: id, in: transaction)
            }
        }
    }

    /// Reserves every line of an expired cart again, returning what it took by SKU (`nil` for a cart
    /// that is not expired); on any shortage releases what it took and throws.
    @discardableResult
    func reactivateIfExpired(_ cart: Cart, from locations: [Location]) async throws -> [String: [Allocation]]? {
        guard cart.status == .expired else { return nil }
        var held: [String: [Allocation]] = [:]
        do {
            for line in cart.lines {
                held[line.sku] = try await stock.withStock(line.sku) { stock in
                    try await stock.reserve(line.quantity, from: locations, actor: "cart:\(cart.id)") { transaction, allocations in
                        try self.store.addReservations(allocations, cart: cart.id, sku: line.sku, in: transaction)
                        return allocations
                    }
                }
            }
        } catch {
            try await releaseReservations(of: cart.id)
            throw error
        }
        return held
    }

    /// After a write to an expired cart failed once its lines were reserved again: releases them, and
    /// returns the error to throw. A shortage is measured again with them released, so it says what the
    /// cart could have had (measured while they were held, it said 0 with 2 free).
    private func undoReactivation(of id: CartID, after error: any Error, from locations: [Location]) async throws -> any Error {
        try await releaseReservations(of: id)
        guard case .insufficientStock(let sku, _)? = error as? InventoryError else { return error }
        let available = try await stock.withStock(sku) { await $0.available(at: locations) }
        return InventoryError.insufficientStock(sku: sku, available: available)
    }

    /// The cart if it can still change (active or expired).
    func open(_ id: CartID) throws -> Cart {
        try Self.open(id, store.cart(id))
    }

    private static func open(_ id: CartID, _ cart: Cart?) throws -> Cart {
        guard let cart else { throw CartError.notFound(id.rawValue) }
        guard cart.status == .active || cart.status == .expired else { throw CartError.closed(id: id.rawValue, status: cart.status) }
        return cart
    }

    /// Where a cart's units come from: its till's location, or every location that fulfils online.
    func reservationLocations(_ cart: Cart) throws -> [Location] {
        try store.reservationLocations(channel: cart.channel, location: cart.location)
    }

    private func validate(quantity: Int, customisation: JSONValue?) throws {
        var validator = Validator()
        validator.check((1...Self.maxQuantity).contains(quantity), "quantity", "must be a whole number from 1 to \(Self.maxQuantity)")
        if let customisation {
            validator.check(customisation.encodedCount <= Self.maxCustomisationBytes, "customisation",
                            "must be at most \(Self.maxCustomisationBytes) bytes of JSON")
        }
        try validator.throwIfAny()
    }

    /// Now as stored, and the deadline a time-to-live from now, as stored and in milliseconds: from one
    /// reading of the clock, so a write's stamp and its deadline agree.
    func stamps() -> (now: String, expiresAt: String, expiresMilliseconds: Int64) {
        stamps(cappedAt: nil)
    }

    /// ``stamps()`` for a write to `cart`: its deadline is never later than ``maxHold`` after the
    /// cart was made, so writing to a cart over and over does not keep its units from everyone else.
    func stamps(for cart: Cart) -> (now: String, expiresAt: String, expiresMilliseconds: Int64) {
        stamps(cappedAt: holdEnd(of: cart))
    }

    private func stamps(cappedAt cap: Date?) -> (now: String, expiresAt: String, expiresMilliseconds: Int64) {
        let now = clock.now()
        var deadline = now.addingTimeInterval(ttl.seconds)
        if let cap, cap < deadline { deadline = max(cap, now) }
        return (Timestamp.string(now), Timestamp.string(deadline), Int64((deadline.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// When `cart` must stop holding stock.
    private func holdEnd(of cart: Cart) -> Date? {
        Timestamp.date(cart.createdAt).map { $0.addingTimeInterval(maxHold.seconds) }
    }

    /// Refuses a write that would take a line of an online cart past ``maxUnitsPerSKU``, or reserve
    /// for a cart whose hold has ended (`quantity` is what the line would hold).
    func checkLimits(_ cart: Cart, sku: String, quantity: Int) throws {
        if cart.channel == .online, quantity > maxUnitsPerSKU { throw CartError.tooManyUnits(sku: sku, max: maxUnitsPerSKU) }
        if let end = holdEnd(of: cart), clock.now() >= end { throw CartError.holdEnded(id: cart.id.rawValue, maxHold: maxHold) }
    }

    /// Makes sure the cart is checked at or before `milliseconds`. A cart already in the heap keeps its
    /// entry: deadlines only move later, and when the entry comes due ``expire(_:)`` re-reads the cart's
    /// deadline and schedules it again if it moved.
    func schedule(_ id: CartID, at milliseconds: Int64) {
        deadlines.withLock { state in
            guard state.scheduled.insert(id.rawValue).inserted else { return }
            state.heap.push(.init(at: milliseconds, cart: id.rawValue))
        }
    }
}

/// The payload of `cart.line_added`, `cart.line_updated` and `cart.line_removed`, written by hand:
/// every line write appends one, on the writer thread.
struct LineEvent: Encodable, DirectJSONEncodable {
    var cartID: String
    var lineID: String
    var sku: String
    var quantity: Int
    var title: String
    /// The line's customisation, when it has one: an admin watching the cart sees it as it is typed.
    var customisation: JSONValue? = nil

    func writeJSON(into object: inout JSONObjectWriter) throws {
        object.string("cart_id", cartID)
        object.string("line_id", lineID)
        object.string("sku", sku)
        object.integer("quantity", Int64(quantity))
        object.string("title", title)
        if let customisation { try object.value("customisation", ifPresent: customisation) }
    }
}
