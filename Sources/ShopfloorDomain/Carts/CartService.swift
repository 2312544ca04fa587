import Foundation
public import ShopfloorStorage
import Synchronization

/// The live cart: creating carts, adding and changing lines with their units reserved through the SKU
/// actors, deleting, and expiring carts whose time-to-live has run out.
///
/// Operations on one cart run one at a time (``KeyedLock``), so a line's quantity is never read and
/// changed by two requests at once; different carts proceed in parallel, meeting only at the SKU actors.
/// Every write commits before the caller hears of it, with its `cart.*` and `stock.changed` events.
public final class CartService: Sendable {
    let database: Database
    let stock: StockRegistry
    let pricing: PricingService
    let events: EventLog
    private let ttl: Duration
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

    public init(database: Database, events: EventLog, stock: StockRegistry, pricing: PricingService, reservationTTL: Duration) {
        self.database = database
        self.stock = stock
        self.pricing = pricing
        self.events = events
        ttl = reservationTTL
        _ = events.subscribe { [weak self] event in
            guard event.type.hasPrefix("product.") || event.type.hasPrefix("location.") else { return }
            self?.memory.forgetAll()
        }
    }

    // MARK: Reads

    /// The cart with its totals priced (discounts, shipping, tax).
    public func cart(_ id: CartID) throws -> Cart? {
        try database.readers.read { connection in try Self.load(id, connection) }.map { try pricing.price($0) }
    }

    /// Carts by status (all when `nil`), oldest first, for the back office.
    public func carts(status: Cart.Status?, limit: Int, after: Int64?) throws -> Page<Cart> {
        try database.readers.read { connection in
            var sql = "SELECT rowid, id FROM carts WHERE rowid > ?"
            var bindings: [SQLiteValue] = [.integer(after ?? 0)]
            if let status {
                sql += " AND status = ?"
                bindings.append(.text(status.rawValue))
            }
            let limit = max(1, min(limit, 200))
            let rows = try connection.query(sql + " ORDER BY rowid LIMIT ?", bindings + [.integer(Int64(limit + 1))])
            let carts = try rows.prefix(limit).compactMap { row in
                try Self.load(CartID(rawValue: row["id"]?.string ?? ""), connection)
            }
            let next = rows.count > limit ? rows[limit - 1]["rowid"]?.int.map { ProductQuery.Cursor.after(seq: Int64($0)).token } : nil
            return Page(items: try carts.map { try pricing.price($0) }, nextCursor: next)
        }
    }

    // MARK: Writes

    public func create(channel: Cart.Channel, location: Location?, customerID: String?, currency: Currency) async throws -> Cart {
        var validator = Validator()
        validator.check(channel == .online || location != nil, "location", "is required for a pos cart")
        validator.check(channel == .pos || location == nil, "location", "applies to pos carts only")
        validator.text(customerID, "customer_id", max: 64, required: false)
        try validator.throwIfAny()
        let id = CartID.make()
        let (expiresAt, expiresMs) = nextExpiry()
        let now = Timestamp.now
        let cart = try await database.writer.write { connection in
            try connection.run(
                """
                INSERT INTO carts (id, channel, location_id, customer_id, currency, status, expires_at, expires_at_ms, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)
                """,
                [.text(id.rawValue), .text(channel.rawValue), .optional(channel == .pos ? location?.id.rawValue : nil), .optional(customerID),
                 .text(currency.code), .text(expiresAt), .integer(expiresMs), .text(now), .text(now)])
            let cart = try Self.load(id, connection)!
            try self.events.append(type: "cart.created", topic: "cart:\(id)", data: cart, in: connection)
            return cart
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
            let reactivated = try await self.reactivateIfExpired(cart, from: locations)
            let (expiresAt, expiresMs) = self.nextExpiry()
            let now = Timestamp.now
            let lineID = existing?.id ?? CartLineID.make()
            let activating = cart.status != .active
            let taken: [Allocation]
            do {
                taken = try await self.stock.withStock(sku) { stock in
                    try await stock.reserve(quantity, from: locations, actor: "cart:\(id)") { transaction, allocations in
                        let connection = transaction.sqlite
                        try Self.addReservations(allocations, cart: id, sku: sku, connection)
                        if existing != nil {
                            try connection.run(
                                "UPDATE cart_lines SET quantity = quantity + ?, customisation = COALESCE(?, customisation) WHERE cart_id = ? AND sku = ?",
                                [.integer(Int64(quantity)), .optionalJSON(customisation), .text(id.rawValue), .text(sku)])
                        } else {
                            // After the last line, even when earlier ones were removed, so lines read back in the order added.
                            try connection.run(
                                """
                                INSERT INTO cart_lines (id, cart_id, position, sku, quantity, customisation)
                                VALUES (?1, ?2, (SELECT COALESCE(MAX(position), -1) + 1 FROM cart_lines WHERE cart_id = ?2), ?3, ?4, ?5)
                                """,
                                [.text(lineID.rawValue), .text(id.rawValue), .text(sku), .integer(Int64(quantity)), .optionalJSON(customisation)])
                        }
                        try Self.touch(id, expiresAt: expiresAt, expiresMs: expiresMs, updatedAt: now, activating: activating, connection)
                        try self.events.append(type: existing == nil ? "cart.line_added" : "cart.line_updated", topic: "cart:\(id)",
                            data: LineEvent(cartId: id.rawValue, lineId: lineID.rawValue, sku: sku,
                                            quantity: (existing?.quantity ?? 0) + quantity, title: variant.title), in: connection)
                        return allocations
                    }
                }
            } catch {
                if reactivated != nil { try await self.releaseReservations(of: id) }
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
            let reactivated = try await self.reactivateIfExpired(cart, from: locations)
            // An expired cart held nothing when it was read; it holds its lines again now.
            var held = reactivated ?? context.held
            let (expiresAt, expiresMs) = self.nextExpiry()
            let now = Timestamp.now
            let newQuantity = quantity ?? line.quantity
            let delta = newQuantity - line.quantity
            let activating = cart.status != .active
            let record: @Sendable (any WriteTransaction) throws -> Void = { transaction in
                let connection = transaction.sqlite
                try connection.run(
                    "UPDATE cart_lines SET quantity = ?, customisation = COALESCE(?, customisation) WHERE cart_id = ? AND sku = ?",
                    [.integer(Int64(newQuantity)), .optionalJSON(customisation), .text(id.rawValue), .text(line.sku)])
                try Self.touch(id, expiresAt: expiresAt, expiresMs: expiresMs, updatedAt: now, activating: activating, connection)
                try self.events.append(type: "cart.line_updated", topic: "cart:\(id)",
                    data: LineEvent(cartId: id.rawValue, lineId: lineID.rawValue, sku: line.sku, quantity: newQuantity, title: line.title), in: connection)
            }
            do {
                if delta > 0 {
                    let taken = try await self.stock.withStock(line.sku) { stock in
                        try await stock.reserve(delta, from: locations, actor: "cart:\(id)") { transaction, allocations in
                        let connection = transaction.sqlite
                            try Self.addReservations(allocations, cart: id, sku: line.sku, connection)
                            try record(connection)
                            return allocations
                        }
                    }
                    held[line.sku] = (held[line.sku] ?? []).adding(taken)
                } else if delta < 0 {
                    let allocations = (held[line.sku] ?? []).taking(-delta)
                    try await self.stock.withStock(line.sku) { stock in
                        try await stock.release(allocations, actor: "cart:\(id)") { transaction in
                            try Self.removeReservations(allocations, cart: id, sku: line.sku, transaction.sqlite)
                            try record(transaction)
                        }
                    }
                    held[line.sku] = (held[line.sku] ?? []).adding(allocations, sign: -1)
                } else {
                    try await self.database.writer.write { try record($0) }
                }
            } catch {
                if reactivated != nil { try await self.releaseReservations(of: id) }
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
            let (expiresAt, expiresMs) = self.nextExpiry()
            let now = Timestamp.now
            let active = cart.status == .active
            let record: @Sendable (any WriteTransaction) throws -> Void = { transaction in
                let connection = transaction.sqlite
                try Self.deleteReservations(of: id, sku: line.sku, held: allocations, connection)
                try connection.run("DELETE FROM cart_lines WHERE cart_id = ? AND sku = ?", [.text(id.rawValue), .text(line.sku)])
                if active {
                    try Self.touch(id, expiresAt: expiresAt, expiresMs: expiresMs, updatedAt: now, activating: false, connection)
                }
                try self.events.append(type: "cart.line_removed", topic: "cart:\(id)",
                    data: LineEvent(cartId: id.rawValue, lineId: lineID.rawValue, sku: line.sku, quantity: 0, title: line.title), in: connection)
            }
            if allocations.isEmpty {
                try await self.database.writer.write { try record($0) }
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
            let now = Self.nowMilliseconds()
            let due = deadlines.withLock { state in
                let due = state.heap.popDue(now: now)
                for entry in due { state.scheduled.remove(entry.cart) }
                return due
            }
            for cart in Set(due.map(\.cart)) {
                do { try await expire(CartID(rawValue: cart)) } catch { onError(error) }
            }
            try? await Task.sleep(for: tick)
        }
    }

    /// Expires a cart if it is still active and past its deadline (a later write may have moved it).
    func expire(_ id: CartID) async throws {
        try await locks.withLock(id.rawValue) {
            let row = try self.database.readers.read { connection in
                try connection.query("SELECT status, expires_at_ms FROM carts WHERE id = ?", [.text(id.rawValue)]).first
            }
            guard let row, row["status"]?.string == Cart.Status.active.rawValue else { return }
            let deadline = Int64(row["expires_at_ms"]?.int ?? 0)
            guard deadline <= Self.nowMilliseconds() else {
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
        let (active, stale) = try database.readers.read { connection in
            let active = try connection.query("SELECT id, expires_at_ms FROM carts WHERE status = 'active'")
            let stale = try connection.query(
                "SELECT DISTINCT r.cart_id FROM reservations r JOIN carts c ON c.id = r.cart_id WHERE c.status != 'active'")
            return (active, stale)
        }
        for row in stale {
            let id = CartID(rawValue: row["cart_id"]?.string ?? "")
            try await locks.withLock(id.rawValue) { try await self.releaseReservations(of: id) }
        }
        for row in active {
            schedule(CartID(rawValue: row["id"]?.string ?? ""), at: Int64(row["expires_at_ms"]?.int ?? 0))
        }
    }

    // MARK: Helpers

    /// What a line write starts from, under the cart's lock.
    private struct WriteContext {
        var cart: Cart
        var held: [String: [Allocation]]
        /// The variant of the SKU being added; `nil` for an unknown SKU (or when none was asked for).
        var variant: CartMemory.Variant?
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
        var read: (variant: CartMemory.Variant?, locations: [Location]?) = (nil, nil)
        if cart == nil || (sku != nil && variant == nil) || locations == nil {
            try database.readers.read { connection in
                if cart == nil {
                    cart = try Self.open(id, connection)
                    held = try Self.held(by: id, connection)
                }
                if let sku, variant == nil {
                    variant = try Self.variant(sku, connection)
                    read.variant = variant
                }
                if locations == nil {
                    locations = try Self.reservationLocations(cart!, connection)
                    read.locations = locations
                }
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

    /// `lines` with one line's quantity set and, if given, its customisation replaced, as the
    /// `UPDATE cart_lines` of a line write leaves them.
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
        let release = try database.readers.read { connection in try Self.held(by: id, connection) }
        try await stock.settling(release, as: .released) {
            try await database.writer.write { connection in
                if let closing {
                    try connection.run("UPDATE carts SET status = ?, updated_at = ? WHERE id = ?",
                                       [.text(closing.status.rawValue), .text(Timestamp.now), .text(id.rawValue)])
                    try self.events.append(type: closing.event, topic: "cart:\(id)", data: try Self.load(id, connection)!, in: connection)
                }
                for (sku, allocations) in release.sorted(by: { $0.key < $1.key }) {
                    for allocation in allocations {
                        try self.stock.ledger.apply(
                            StockLedger.Change(sku: sku, location: allocation.location, onHandDelta: 0, reservedDelta: -allocation.quantity,
                                               reason: "released", actor: "cart:\(id)"), in: connection)
                    }
                }
                try connection.run("DELETE FROM reservations WHERE cart_id = ?", [.text(id.rawValue)])
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
                        let connection = transaction.sqlite
                        try Self.addReservations(allocations, cart: cart.id, sku: line.sku, connection)
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

    /// The cart if it can still change (active or expired).
    func open(_ id: CartID) throws -> Cart {
        try database.readers.read { connection in try Self.open(id, connection) }
    }

    private static func open(_ id: CartID, _ connection: SQLiteConnection) throws -> Cart {
        guard let cart = try load(id, connection) else { throw CartError.notFound(id.rawValue) }
        guard cart.status == .active || cart.status == .expired else { throw CartError.closed(id: id.rawValue, status: cart.status) }
        return cart
    }

    /// What a line of `sku` is made from; `nil` for a SKU no variant has.
    private static func variant(_ sku: String, _ connection: SQLiteConnection) throws -> CartMemory.Variant? {
        guard let row = try connection.query(
            """
            SELECT v.title AS variant_title, v.price_amount, v.price_currency, p.title AS product_title, p.status
            FROM variants v JOIN products p ON p.seq = v.product_seq WHERE v.sku = ?
            """, [.text(sku)]).first
        else { return nil }
        return CartMemory.Variant(
            title: Self.title(product: row["product_title"]?.string, variant: row["variant_title"]?.string),
            price: Int64(row["price_amount"]?.int ?? 0), currency: row["price_currency"]?.string ?? "",
            active: row["status"]?.string == Product.Status.active.rawValue)
    }

    /// Where a cart's units come from: its till's location, or every location that fulfils online.
    func reservationLocations(_ cart: Cart) throws -> [Location] {
        try database.readers.read { connection in try Self.reservationLocations(cart, connection) }
    }

    private static func reservationLocations(_ cart: Cart, _ connection: SQLiteConnection) throws -> [Location] {
        if cart.channel == .pos {
            return try connection.query("SELECT * FROM locations WHERE code = ?", [.text(cart.location ?? "")]).map(Location.init(row:))
        }
        return try connection.query("SELECT * FROM locations WHERE fulfils_online = 1").map(Location.init(row:))
    }

    /// The units a cart holds, by SKU and location, from its reservation rows.
    private static func held(by id: CartID, _ connection: SQLiteConnection) throws -> [String: [Allocation]] {
        let rows = try connection.query(
            "SELECT r.sku, r.quantity, l.* FROM reservations r JOIN locations l ON l.id = r.location_id WHERE r.cart_id = ? ORDER BY r.sku",
            [.text(id.rawValue)])
        var held: [String: [Allocation]] = [:]
        for row in rows {
            held[row["sku"]?.string ?? "", default: []].append(Allocation(location: Location(row: row), quantity: row["quantity"]?.int ?? 0))
        }
        return held
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

    func nextExpiry() -> (text: String, milliseconds: Int64) {
        let deadline = Date().addingTimeInterval(Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18)
        return (Timestamp.string(deadline), Int64(deadline.timeIntervalSince1970 * 1000))
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

    private static func nowMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// Moves the cart's deadline on, and makes it active if `activating` (an expired cart reserved
    /// again). Left alone, `status` keeps its index untouched: on an active cart this changes no index.
    static func touch(_ id: CartID, expiresAt: String, expiresMs: Int64, updatedAt: String = Timestamp.now, activating: Bool,
                      _ connection: SQLiteConnection) throws {
        let values: [SQLiteValue] = [.text(expiresAt), .integer(expiresMs), .text(updatedAt), .text(id.rawValue)]
        if activating {
            try connection.run("UPDATE carts SET status = 'active', expires_at = ?, expires_at_ms = ?, updated_at = ? WHERE id = ?", values)
        } else {
            try connection.run("UPDATE carts SET expires_at = ?, expires_at_ms = ?, updated_at = ? WHERE id = ?", values)
        }
    }

    private static func addReservations(_ allocations: [Allocation], cart: CartID, sku: String, _ connection: SQLiteConnection) throws {
        for allocation in allocations {
            try connection.run(
                """
                INSERT INTO reservations (cart_id, sku, location_id, quantity) VALUES (?, ?, ?, ?)
                ON CONFLICT (cart_id, sku, location_id) DO UPDATE SET quantity = quantity + excluded.quantity
                """,
                [.text(cart.rawValue), .text(sku), .text(allocation.location.id.rawValue), .integer(Int64(allocation.quantity))])
        }
    }

    private static func removeReservations(_ allocations: [Allocation], cart: CartID, sku: String, _ connection: SQLiteConnection) throws {
        for allocation in allocations {
            let key: [SQLiteValue] = [.text(cart.rawValue), .text(sku), .text(allocation.location.id.rawValue), .integer(Int64(allocation.quantity))]
            // All of it goes: delete the row; part of it: lower the row (a row never holds zero).
            try connection.run("DELETE FROM reservations WHERE cart_id = ? AND sku = ? AND location_id = ? AND quantity = ?", key)
            try connection.run(
                "UPDATE reservations SET quantity = quantity - ?4 WHERE cart_id = ?1 AND sku = ?2 AND location_id = ?3 AND quantity > ?4", key)
        }
    }

    /// Deletes every reservation row of `sku` in the cart: row by row for the locations `held` names,
    /// by its whole key. Deleting by the key's first two columns would find the same rows, but for a
    /// table with foreign keys SQLite then deletes in two passes through a temporary b-tree (a pager
    /// opened and closed, its page allocated): 4 % of the writer's time on the cart loop. A row the
    /// holdings missed is still deleted, by the two columns, so a line never leaves one behind.
    private static func deleteReservations(of cart: CartID, sku: String, held: [Allocation], _ connection: SQLiteConnection) throws {
        for allocation in held {
            try connection.run("DELETE FROM reservations WHERE cart_id = ? AND sku = ? AND location_id = ?",
                               [.text(cart.rawValue), .text(sku), .text(allocation.location.id.rawValue)])
        }
        var left = false
        try connection.forEachRow("SELECT 1 FROM reservations WHERE cart_id = ? AND sku = ? LIMIT 1", [.text(cart.rawValue), .text(sku)]) { _ in
            left = true
        }
        if left {
            try connection.run("DELETE FROM reservations WHERE cart_id = ? AND sku = ?", [.text(cart.rawValue), .text(sku)])
        }
    }

    static func title(product: String?, variant: String?) -> String {
        [product, variant].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " — ")
    }

    static func load(_ id: CartID, _ connection: SQLiteConnection) throws -> Cart? {
        guard let row = try connection.query(
            "SELECT c.*, l.code AS location_code FROM carts c LEFT JOIN locations l ON l.id = c.location_id WHERE c.id = ?",
            [.text(id.rawValue)]).first
        else { return nil }
        let currency = Currency(row["currency"]?.string ?? "") ?? Currency("USD")!
        let lines = try connection.query(
            """
            SELECT cl.*, v.price_amount, v.title AS variant_title, p.title AS product_title FROM cart_lines cl
            LEFT JOIN variants v ON v.sku = cl.sku LEFT JOIN products p ON p.seq = v.product_seq
            WHERE cl.cart_id = ? ORDER BY cl.position
            """, [.text(id.rawValue)]).map { line in
            let quantity = line["quantity"]?.int ?? 0
            let price = Int64(line["price_amount"]?.int ?? 0)
            return CartLine(
                id: CartLineID(rawValue: line["id"]?.string ?? ""), sku: line["sku"]?.string ?? "",
                title: title(product: line["product_title"]?.string, variant: line["variant_title"]?.string), quantity: quantity,
                unitPrice: Money(amount: price, currency: currency), lineTotal: Money(amount: price * Int64(quantity), currency: currency),
                customisation: line["customisation"]?.string.flatMap { try? JSONParser.parse(Array($0.utf8)) })
        }
        return Cart(
            id: id, channel: Cart.Channel(rawValue: row["channel"]?.string ?? "") ?? .online,
            status: Cart.Status(rawValue: row["status"]?.string ?? "") ?? .expired, location: row["location_code"]?.string,
            customerId: row["customer_id"]?.string, email: row["email"]?.string, currency: currency,
            checkoutStep: row["checkout_step"]?.string ?? "cart",
            shippingAddress: try row["shipping_address"]?.string.map { try JSONCoding.decode(Address.self, from: Array($0.utf8)) },
            billingAddress: try row["billing_address"]?.string.map { try JSONCoding.decode(Address.self, from: Array($0.utf8)) },
            shippingMethod: row["shipping_method_id"]?.string,
            discountCodes: try JSONCoding.decode([String].self, from: Array((row["discount_codes"]?.string ?? "[]").utf8)),
            lines: lines, totals: Cart.unpricedTotals(of: lines, currency: currency),
            expiresAt: row["expires_at"]?.string ?? "", createdAt: row["created_at"]?.string ?? "", updatedAt: row["updated_at"]?.string ?? "")
    }
}

/// The payload of `cart.line_added`, `cart.line_updated` and `cart.line_removed`, written by hand:
/// every line write appends one, on the writer thread.
struct LineEvent: Encodable, DirectJSONEncodable {
    var cartId: String
    var lineId: String
    var sku: String
    var quantity: Int
    var title: String

    func writeJSON(into object: inout JSONObjectWriter) {
        object.string("cart_id", cartId)
        object.string("line_id", lineId)
        object.string("sku", sku)
        object.integer("quantity", Int64(quantity))
        object.string("title", title)
    }
}

extension SQLiteValue {
    static func optionalJSON(_ value: JSONValue?) -> SQLiteValue {
        guard let value, let bytes = try? JSONCoding.encode(value) else { return .null }
        return .text(String(decoding: bytes, as: UTF8.self))
    }
}
