import Foundation
import Synchronization

/// The live webstats (API.md: `GET /v1/stats/live`, topic `stats`), kept as things happen so a read
/// costs no scan: shoppers now, active carts and checkouts, today's orders and revenue, and over the
/// last hour the funnel (distinct shoppers who viewed, carted, reached checkout, paid), the most
/// viewed and carted products, and offers sent, accepted and redeemed.
///
/// The hour is sixty one-minute buckets: a bucket leaves the window whole, so memory follows what
/// happened per minute, not per event.
public final class LiveStats: Sendable {
    public struct Snapshot: Sendable, Equatable, Encodable {
        public struct Funnel: Sendable, Equatable, Encodable {
            public var viewed: Int
            public var carted: Int
            public var checkout: Int
            public var paid: Int
        }

        public struct Viewed: Sendable, Equatable, Encodable {
            public var productID: String
            public var title: String
            public var views: Int
        }

        public struct Carted: Sendable, Equatable, Encodable {
            public var sku: String
            public var title: String
            public var adds: Int
        }

        public struct Offers: Sendable, Equatable, Encodable {
            public var sent: Int
            public var accepted: Int
            public var redeemed: Int
        }

        public var visitorsNow: Int
        public var cartsActive: Int
        public var checkoutsInProgress: Int
        public var ordersToday: Int
        public var revenueToday: Money
        public var funnel: Funnel
        public var topViewed: [Viewed]
        public var topCarted: [Carted]
        public var offers: Offers
    }

    /// The stages of the funnel.
    enum Step: Int, CaseIterable {
        case viewed, carted, checkout, paid
    }

    private struct State {
        var visitorsNow = 0
        /// Active carts with their number of lines.
        var cartLines: [Substring: Int] = [:]
        var inCheckout: Set<Substring> = []
        var day = ""
        var ordersToday = 0
        var revenueToday: Int64 = 0
        var funnel = Array(repeating: DistinctWindow(), count: Step.allCases.count)
        var viewed = CountWindow()
        var carted = CountWindow()
        var offers = CountWindow()
        var titles: [String: String] = [:]
        var expiredThrough = 0
        var snapshot: Snapshot?
        /// Something changed since the `stats` topic last had the figures.
        var unsent = true

        mutating func changed() {
            snapshot = nil
            unsent = true
        }
    }

    /// How many entries each top list holds.
    static let topCount = 10

    private let currency: Currency
    private let clock: any WallClock
    private let state = Mutex(State())

    public init(currency: Currency, clock: any WallClock) {
        self.currency = currency
        self.clock = clock
    }

    /// Starts from the store: the active carts and today's orders so far (`day` names today in the
    /// shop's time zone).
    func load(activeCarts: [(cart: CartID, lines: Int, step: String)], day: String, ordersToday: Int, revenueToday: Int64) {
        state.withLock { state in
            for cart in activeCarts {
                let key = Substring(cart.cart.rawValue)
                if cart.lines > 0 { state.cartLines[key] = cart.lines }
                if cart.step != "cart" { state.inCheckout.insert(key) }
            }
            state.day = day
            state.ordersToday = ordersToday
            state.revenueToday = revenueToday
            state.changed()
        }
    }

    private var minute: Int { Int(clock.now().timeIntervalSince1970 / 60) }

    func setVisitorsNow(_ count: Int) {
        state.withLock { state in
            guard state.visitorsNow != count else { return }
            state.visitorsNow = count
            state.changed()
        }
    }

    func viewed(product: ProductID, title: String, by shopper: String) {
        let minute = minute
        state.withLock { state in
            state.viewed.add(product.rawValue, minute: minute)
            state.titles[product.rawValue] = title
            state.funnel[Step.viewed.rawValue].add(shopper, minute: minute)
            state.changed()
        }
    }

    func reached(_ step: Step, by shopper: String) {
        let minute = minute
        state.withLock { state in
            state.funnel[step.rawValue].add(shopper, minute: minute)
            state.changed()
        }
    }

    /// A cart event as the stats take it: its type, cart, the shopper it counts for (the live
    /// visitor whose cart it is, else the cart), and its payload.
    struct CartChange {
        var type: String
        var cart: Substring
        var shopper: String
        var data: String
    }

    /// Cart events, in log order, under one lock: lines come and go, checkouts start, carts close,
    /// and the funnel moves.
    func cartsChanged(_ changes: [CartChange]) {
        let minute = minute
        state.withLock { state in
            for change in changes {
                let cart = change.cart
                switch change.type {
                case "cart.line_added":
                    state.cartLines[cart, default: 0] += 1
                    if let sku = LiveShoppers.field("sku", in: change.data) {
                        let key = String(sku)
                        state.carted.add(key, minute: minute)
                        if state.titles[key] == nil, let title = LiveShoppers.field("title", in: change.data) { state.titles[key] = String(title) }
                    }
                    state.funnel[Step.carted.rawValue].add(change.shopper, minute: minute)
                case "cart.line_removed":
                    if let lines = state.cartLines[cart] { state.cartLines[cart] = lines > 1 ? lines - 1 : nil }
                case "checkout.step_changed":
                    guard let step = LiveShoppers.field("to", in: change.data) else { continue }
                    if step == "cart" {
                        state.inCheckout.remove(cart)
                    } else {
                        state.inCheckout.insert(cart)
                        state.funnel[Step.checkout.rawValue].add(change.shopper, minute: minute)
                    }
                case "cart.completed":
                    state.cartLines[cart] = nil
                    state.inCheckout.remove(cart)
                    state.funnel[Step.paid.rawValue].add(change.shopper, minute: minute)
                case "cart.expired", "cart.deleted":
                    state.cartLines[cart] = nil
                    state.inCheckout.remove(cart)
                default:
                    continue
                }
                state.changed()
            }
        }
    }

    /// An order placed today (by the shop's clock), of `amount` in `currency`.
    func orderPlaced(amount: Int64, currency: Currency, day: String) {
        state.withLock { state in
            if state.day != day {
                state.day = day
                state.ordersToday = 0
                state.revenueToday = 0
            }
            state.ordersToday += 1
            if currency == self.currency { state.revenueToday += amount }
            state.changed()
        }
    }

    /// A new day in the shop's time zone: today's counts start again.
    func startDay(_ day: String) {
        state.withLock { state in
            guard state.day != day else { return }
            state.day = day
            state.ordersToday = 0
            state.revenueToday = 0
            state.changed()
        }
    }

    enum OfferEvent: String {
        case sent, accepted, redeemed
    }

    func offer(_ event: OfferEvent) {
        let minute = minute
        state.withLock { state in
            state.offers.add(event.rawValue, minute: minute)
            state.changed()
        }
    }

    /// The figures now; worked out again only after something changed or a minute left the window.
    public func snapshot() -> Snapshot {
        let minute = minute
        return state.withLock { state in
            if state.expiredThrough < minute - CountWindow.minutes {
                state.expiredThrough = minute - CountWindow.minutes
                for index in state.funnel.indices { state.funnel[index].expire(before: minute - CountWindow.minutes + 1) }
                state.viewed.expire(before: minute - CountWindow.minutes + 1)
                state.carted.expire(before: minute - CountWindow.minutes + 1)
                state.offers.expire(before: minute - CountWindow.minutes + 1)
                state.titles = state.titles.filter { state.viewed.totals[$0.key] != nil || state.carted.totals[$0.key] != nil }
                state.changed()
            }
            if let snapshot = state.snapshot { return snapshot }
            let since = minute - CountWindow.minutes + 1
            let funnel = state.funnel.map { $0.count(since: since) }
            let titles = state.titles
            let snapshot = Snapshot(
                visitorsNow: state.visitorsNow, cartsActive: state.cartLines.count, checkoutsInProgress: state.inCheckout.count,
                ordersToday: state.ordersToday, revenueToday: Money(amount: state.revenueToday, currency: currency),
                funnel: Snapshot.Funnel(viewed: funnel[0], carted: funnel[1], checkout: funnel[2], paid: funnel[3]),
                topViewed: state.viewed.top(Self.topCount).map { Snapshot.Viewed(productID: $0.key, title: titles[$0.key] ?? $0.key, views: $0.count) },
                topCarted: state.carted.top(Self.topCount).map { Snapshot.Carted(sku: $0.key, title: titles[$0.key] ?? $0.key, adds: $0.count) },
                offers: Snapshot.Offers(
                    sent: state.offers.totals["sent"] ?? 0, accepted: state.offers.totals["accepted"] ?? 0,
                    redeemed: state.offers.totals["redeemed"] ?? 0))
            state.snapshot = snapshot
            return snapshot
        }
    }

    /// The figures, if they changed since this was last asked (the `stats` topic sends them then).
    public func changedSnapshot() -> Snapshot? {
        let unsent = state.withLock { state in
            defer { state.unsent = false }
            return state.unsent
        }
        return unsent ? snapshot() : nil
    }
}

/// Distinct keys seen in the last hour, by the minute each was last seen.
struct DistinctWindow {
    private var last: [String: Int] = [:]
    private var perMinute: [Int: Int] = [:]

    mutating func add(_ key: String, minute: Int) {
        if let old = last[key] {
            if old == minute { return }
            if let count = perMinute[old] { perMinute[old] = count > 1 ? count - 1 : nil }
        }
        last[key] = minute
        perMinute[minute, default: 0] += 1
    }

    func count(since minute: Int) -> Int {
        perMinute.reduce(0) { $1.key >= minute ? $0 + $1.value : $0 }
    }

    /// Forgets keys last seen before `minute`.
    mutating func expire(before minute: Int) {
        guard perMinute.keys.contains(where: { $0 < minute }) else { return }
        perMinute = perMinute.filter { $0.key >= minute }
        last = last.filter { $0.value >= minute }
    }
}

/// Counts per key over the last hour, in one-minute buckets.
struct CountWindow {
    static let minutes = 60
    private var buckets: [Int: [String: Int]] = [:]
    private(set) var totals: [String: Int] = [:]

    mutating func add(_ key: String, minute: Int) {
        buckets[minute, default: [:]][key, default: 0] += 1
        totals[key, default: 0] += 1
    }

    mutating func expire(before minute: Int) {
        for (bucketMinute, counts) in buckets where bucketMinute < minute {
            for (key, count) in counts {
                let left = (totals[key] ?? 0) - count
                totals[key] = left > 0 ? left : nil
            }
            buckets[bucketMinute] = nil
        }
    }

    /// The `n` keys with the highest counts, highest first (ties by key, so the order is stable).
    func top(_ n: Int) -> [(key: String, count: Int)] {
        totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(n).map { ($0.key, $0.value) }
    }
}
