import Foundation
import ShopfloorJSON
import Synchronization
import Testing
@testable import ShopfloorDomain

/// A storefront socket that keeps what the shop sent it.
final class RecordingConnection: ShopperConnection {
    let connectionID: UInt64
    private let received = Mutex<[ShopperDelivery]>([])

    init(_ id: UInt64) { connectionID = id }

    func deliver(_ delivery: ShopperDelivery) { received.withLock { $0.append(delivery) } }

    var deliveries: [ShopperDelivery] { received.withLock { $0 } }
}

/// Presence, stages, stored activity and its link to customers, the live stats, and messages and
/// offers to one shopper, on a real store with a manual clock.
struct LiveShoppersTests {
    static func track(_ shop: TestShop, _ kind: ActivityKind, _ data: [String: JSONValue] = [:], visitor: VisitorID, on tab: UInt64?) async throws {
        try await shop.live.track([ReportedActivity(Activity(kind: kind, data: .object(data, order: Array(data.keys))))], visitor: visitor, connection: tab)
    }

    /// The visitor's entry in the snapshot, as the back office reads it.
    static func entry(_ shop: TestShop, _ visitor: VisitorID) -> [String: JSONValue]? {
        for item in shop.live.snapshot().items {
            guard case .object(let members, _) = try? JSONParser.parse(Array(item.utf8)) else { continue }
            if members["visitor"] == .string(visitor.rawValue) { return members }
        }
        return nil
    }

    static func member(_ entry: [String: JSONValue]?, _ path: String...) -> JSONValue? {
        var value: JSONValue? = entry.map { .object($0, order: []) }
        for key in path {
            guard case .object(let members, _)? = value else { return nil }
            value = members[key]
        }
        return value
    }

    @Test func stagesFollowTheCartTheCheckoutAndHiddenTabs() {
        let rules = StageRules(hesitatingAfter: 120, hiddenHesitatingAfter: 60)
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(rules.stage(lines: 0, step: "payment", lastActive: now.addingTimeInterval(-999), hiddenSince: now.addingTimeInterval(-999), now: now) == .browsing)
        #expect(rules.stage(lines: 1, step: nil, lastActive: now.addingTimeInterval(-999), hiddenSince: nil, now: now) == .considering)
        #expect(rules.stage(lines: 1, step: "cart", lastActive: now.addingTimeInterval(-999), hiddenSince: nil, now: now) == .considering)
        #expect(rules.stage(lines: 1, step: "details", lastActive: now.addingTimeInterval(-119), hiddenSince: nil, now: now) == .considering)
        #expect(rules.stage(lines: 1, step: "details", lastActive: now.addingTimeInterval(-120), hiddenSince: nil, now: now) == .hesitating)
        #expect(rules.stage(lines: 2, step: nil, lastActive: now, hiddenSince: now.addingTimeInterval(-59), now: now) == .considering)
        #expect(rules.stage(lines: 2, step: nil, lastActive: now, hiddenSince: now.addingTimeInterval(-60), now: now) == .hesitating)
    }

    @Test func activityDataIsCheckedPerKind() throws {
        #expect(throws: ValidationError.self) { try Activity(kind: .pageViewed, data: nil) }
        #expect(throws: ValidationError.self) { try Activity(kind: .pageViewed, data: .object(["path": .integer(7)], order: ["path"])) }
        #expect(throws: ValidationError.self) { try Activity(kind: .productViewed, data: .object(["product_id": .string("shoe")], order: ["product_id"])) }
        #expect(throws: ValidationError.self) { try Activity(kind: .search, data: .object(["query": .string(String(repeating: "q", count: 3000))], order: ["query"])) }
        #expect(throws: ValidationError.self) { try Activity(kind: .pageHidden, data: .array([])) }
        let page = try Activity(kind: .pageViewed, data: .object(["path": .string("/shoes"), "extra": .bool(true)], order: ["path", "extra"]))
        #expect(page.path == "/shoes" && page.title == nil)
        #expect(try Activity(kind: .pageVisible, data: nil).kind == .pageVisible)
    }

    @Test func windowsCountWhatHappenedInTheLastHourOnly() {
        var distinct = DistinctWindow()
        distinct.add("a", minute: 100)
        distinct.add("b", minute: 100)
        distinct.add("a", minute: 130)
        #expect(distinct.count(since: 71) == 2)
        #expect(distinct.count(since: 101) == 1)
        distinct.expire(before: 101)
        #expect(distinct.count(since: 0) == 1)
        var counts = CountWindow()
        counts.add("shoe", minute: 10)
        counts.add("shoe", minute: 20)
        counts.add("hat", minute: 20)
        #expect(counts.top(5).map(\.key) == ["shoe", "hat"])
        counts.expire(before: 11)
        #expect(counts.totals == ["shoe": 1, "hat": 1])
        #expect(counts.top(1).map(\.key) == ["hat"])
    }

    @Test func anEntryWritesEveryMemberAbsentOnesAsNull() throws {
        var entry = ShopperEntry(
            visitor: VisitorID(rawValue: "vis_1"), customer: nil, since: "2026-12-06T10:00:00Z", lastActiveAt: "2026-12-06T10:01:00Z", page: nil,
            product: nil, hidden: false, cart: nil, checkoutStep: nil, stage: .browsing, sockets: 1)
        #expect(String(decoding: try JSONCoding.encode(entry), as: UTF8.self) == #"{"visitor":"vis_1","customer":null,"since":"2026-12-06T10:00:00Z","#
            + #""last_active_at":"2026-12-06T10:01:00Z","page":null,"product":null,"hidden":false,"cart":null,"checkout_step":null,"#
            + #""stage":"browsing","sockets":1}"#)
        entry.customer = .init(id: "cus_1", name: nil, email: "ada@example.com")
        entry.page = .init(path: "/shoes", title: "Shoes \"new\"")
        entry.product = .init(id: "prod_1", title: "Boot")
        entry.cart = .init(id: "cart_1", lines: 2, total: Money(amount: 4200, currency: Currency("GBP")!))
        entry.checkoutStep = "details"
        entry.stage = .hesitating
        #expect(String(decoding: try JSONCoding.encode(entry), as: UTF8.self) == #"{"visitor":"vis_1","#
            + #""customer":{"id":"cus_1","name":null,"email":"ada@example.com"},"since":"2026-12-06T10:00:00Z","#
            + #""last_active_at":"2026-12-06T10:01:00Z","page":{"path":"/shoes","title":"Shoes \"new\""},"#
            + #""product":{"id":"prod_1","title":"Boot"},"hidden":false,"cart":{"id":"cart_1","lines":2,"#
            + #""total":{"amount":4200,"currency":"GBP"}},"checkout_step":"details","stage":"hesitating","sockets":1}"#)
    }

    @Test func flatPayloadMembersAreReadWithoutParsing() {
        let json = #"{"cart_id":"cart_1","sku":"MUG-1","title":"Mug \"Blue\""}"#
        #expect(LiveShoppers.field("sku", in: json) == "MUG-1")
        #expect(LiveShoppers.field("title", in: json) == nil)
        #expect(LiveShoppers.field("quantity", in: json) == nil)
    }

    @Test func twoTabsAreOneVisitWhoseSnapshotCarriesItsSeqAndLeavesAfterTheGrace() async throws {
        let shop = try await TestShop()
        let (one, two) = (RecordingConnection(1), RecordingConnection(2))
        let visitor = try await shop.live.hello(one, visitor: nil, customer: nil, cart: nil)
        #expect(try await shop.live.hello(two, visitor: visitor, customer: nil, cart: nil) == visitor)
        let (items, seq) = shop.live.snapshot()
        #expect(items.count == 1 && Self.member(Self.entry(shop, visitor), "sockets") == .integer(2))
        let log = try shop.events.read(since: 0, topics: ["shoppers"], limit: 10)
        #expect(log.map(\.type) == ["shopper.joined", "shopper.updated"] && log.last?.seq == seq)

        // Hidden only when every tab is.
        try await Self.track(shop, .pageHidden, visitor: visitor, on: 1)
        #expect(Self.member(Self.entry(shop, visitor), "hidden") == .bool(false))
        try await Self.track(shop, .pageHidden, visitor: visitor, on: 2)
        #expect(Self.member(Self.entry(shop, visitor), "hidden") == .bool(true))

        // A reload inside the grace keeps the visit; after the grace it ends.
        shop.live.disconnect(1)
        shop.live.disconnect(2)
        shop.clock.advance(by: .seconds(9))
        shop.live.tick()
        #expect(try await shop.live.hello(RecordingConnection(3), visitor: visitor, customer: nil, cart: nil) == visitor)
        shop.live.disconnect(3)
        shop.clock.advance(by: .seconds(10))
        shop.live.tick()
        _ = try await shop.events.prune(olderThan: .seconds(365 * 86_400))
        #expect(shop.live.visit(visitor) == nil)
        #expect(try shop.events.read(since: 0, topics: ["shoppers"], limit: 50).map(\.type).filter { $0 != "shopper.updated" }
            == ["shopper.joined", "shopper.left"])
        #expect(shop.live.snapshot().items.isEmpty)
    }

    @Test func aCartAndAStalledCheckoutMakeAShopperHesitate() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let cart = try await shop.onlineCart()
        let visitor = try await shop.live.hello(RecordingConnection(1), visitor: nil, customer: nil, cart: cart.id)
        #expect(Self.member(Self.entry(shop, visitor), "stage") == .string("browsing"))
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        try await waitFor { Self.member(Self.entry(shop, visitor), "stage") == .string("considering") }
        #expect(Self.member(Self.entry(shop, visitor), "cart", "lines") == .integer(1))
        _ = try await shop.checkout.update(cart.id, with: .init(checkoutStep: "details"))
        try await waitFor { Self.member(Self.entry(shop, visitor), "checkout_step") == .string("details") }
        shop.clock.advance(by: .seconds(121))
        shop.live.tick()
        try await waitFor { Self.member(Self.entry(shop, visitor), "stage") == .string("hesitating") }
        #expect(try shop.store.stores.shoppers.visitor(visitor)?.stage == .hesitating)
    }

    @Test func anonymousViewsBecomeTheCustomersOnceTheCartNamesThem() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let product = try #require(try shop.catalogue.products(ProductQuery()).items.first)
        let ada = try await shop.customers.create(.init(email: "ada@example.com"), source: "admin")
        let cart = try await shop.onlineCart()
        let visitor = try await shop.live.hello(RecordingConnection(1), visitor: nil, customer: nil, cart: cart.id)
        try await Self.track(shop, .productViewed, ["product_id": .string(product.id.rawValue)], visitor: visitor, on: 1)
        #expect(try shop.customers.views(of: ada.id).isEmpty)
        _ = try await shop.checkout.update(cart.id, with: .init(email: "ada@example.com"))
        try await waitFor { Self.member(Self.entry(shop, visitor), "customer", "id") == .string(ada.id.rawValue) }
        try await waitFor { (try? shop.customers.views(of: ada.id).map(\.productID)) == [product.id.rawValue] }
        // Later views go to the customer at once.
        try await Self.track(shop, .productViewed, ["product_id": .string(product.id.rawValue)], visitor: visitor, on: 1)
        #expect(try shop.store.stores.shoppers.visitor(visitor)?.customerID == ada.id)
    }

    @Test func messagesAndOffersReachEveryTabAndOnlyALiveOne() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", price: 2000)
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        let (one, two) = (RecordingConnection(1), RecordingConnection(2))
        let visitor = try await shop.live.hello(one, visitor: nil, customer: nil, cart: cart.id)
        _ = try await shop.live.hello(two, visitor: visitor, customer: nil, cart: nil)
        let (conversation, _) = try await shop.conversations.send("Can I help?", to: visitor, author: "key_admin")
        #expect(try await shop.conversations.reply("A size 38?", from: visitor) == conversation)
        #expect(one.deliveries.count == 2 && two.deliveries.count == 2)
        #expect(try shop.conversations.conversation(conversation).messages.map(\.text) == ["Can I help?", "A size 38?"])

        let (_, offer) = try await shop.conversations.offer(.init(kind: .percent, value: 10, currency: nil, expiresIn: .seconds(600)), to: visitor,
                                                           author: "key_admin")
        #expect(offer.cartID == cart.id.rawValue && offer.customerID == nil)
        let applied = try await shop.conversations.accept(offer.code, by: visitor)
        #expect(applied.totals.discount.amount == 200)
        await #expect(throws: ShopperError.offerRejected("No offer NOPE was made to you.")) { try await shop.conversations.accept("NOPE", by: visitor) }
        await #expect(throws: ValidationError.self) {
            try await shop.conversations.offer(.init(kind: .percent, value: 0, currency: nil, expiresIn: .seconds(600)), to: visitor, author: "k")
        }

        shop.live.disconnect(1)
        shop.live.disconnect(2)
        await #expect(throws: ShopperError.notLive(visitor.rawValue)) { try await shop.conversations.send("Still there?", to: visitor, author: "k") }
        await #expect(throws: ShopperError.unknownVisitor("vis_nobody")) {
            try await shop.conversations.send("Hi", to: VisitorID(rawValue: "vis_nobody"), author: "k")
        }
        let stats = shop.live.stats.snapshot()
        #expect(stats.offers == .init(sent: 1, accepted: 1, redeemed: 0))
    }

    /// Waits (briefly, in real time) for what the flusher thread and follow-up tasks do after a commit.
    private func waitFor(_ condition: @escaping () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }
}
