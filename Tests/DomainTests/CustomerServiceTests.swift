import Foundation
import ShopfloorJSON
import Testing
@testable import ShopfloorDomain

/// Customers made by hand and by orders, one per person: linking by email then phone, stats and
/// preferences kept in the order's own transaction, merging, erasure, and segments counted in the store.
struct CustomerServiceTests {
    static let card = PaymentRequest(method: "test_card", cardNumber: "4242424242424242")

    /// An order of `quantity` mugs from a cart with these details: online with an email, else a till sale.
    static func order(_ shop: TestShop, quantity: Int = 1, email: String? = nil, phone: String? = nil, customer: CustomerID? = nil) async throws -> Order {
        let cart = email == nil
            ? try await shop.carts.create(channel: .pos, location: shop.main, customerID: nil, currency: Currency("GBP")!)
            : try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: quantity, customisation: nil)
        _ = try await shop.checkout.update(cart.id, with: .init(email: email, phone: phone, customerID: customer?.rawValue,
                                                                  shippingAddress: TestShop.address))
        return try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: nil)
    }

    @Test func emailsAndPhonesHaveOneStoredForm() {
        #expect(ContactAddress.email("  Ada@Example.COM ") == "ada@example.com")
        for bad in ["ada", "ada@", "@example.com", "a@@example.com", "a b@example.com", "ada@example..com", "ada@.example.com", ""] {
            #expect(ContactAddress.email(bad) == nil, "\(bad)")
        }
        #expect(ContactAddress.phone("+44 (7700) 900-123") == "+447700900123")
        for bad in ["07700 900123", "+44", "+0447700900123", "+1234567890123456", "++447700900123", "+44 7700 9OO123"] {
            #expect(ContactAddress.phone(bad) == nil, "\(bad)")
        }
    }

    @Test func ordersFindTheCustomerByEmailThenPhoneAndKeepTheirStatsToThePenny() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", price: 1000, units: 20)
        let first = try await Self.order(shop, quantity: 2, email: "ADA@example.com")
        let id = try #require(first.customerID.map(CustomerID.init(rawValue:)))
        shop.clock.advance(by: .seconds(3 * 86_400))
        let second = try await Self.order(shop, quantity: 1, email: "ada@example.com", phone: "+44 7700 900123")
        #expect(second.customerID == id.rawValue)
        // A third order with only the phone finds the same person.
        let third = try await Self.order(shop, quantity: 1, phone: "+447700900123")
        #expect(third.customerID == id.rawValue)

        let customer = try shop.customers.customer(id)
        #expect(customer.email == "ada@example.com")
        #expect(customer.stats.ordersCount == 3)
        #expect(customer.stats.totalSpent == 4000)
        #expect(customer.stats.averageOrderValue == 1333)
        #expect(customer.stats.averageDaysBetweenOrders == 1.5)
        #expect(customer.addresses == [TestShop.address])

        _ = try await shop.orders.transition(first.id, to: .cancelled, actor: "test", note: nil, trackingNumber: nil)
        let after = try shop.customers.customer(id)
        #expect(after.stats.ordersCount == 3 && after.stats.totalSpent == 2000)
        let created = try shop.events.read(since: 0, topics: ["customers"], limit: 100).filter { $0.type == "customer.created" }
        #expect(created.count == 1)
    }

    @Test func aGuestWithoutEmailOrPhoneStaysAnonymous() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let order = try await Self.order(shop)
        #expect(order.customerID == nil)
    }

    @Test func createRefusesDuplicatesAndUpdateNamesWhatChanged() async throws {
        let shop = try await TestShop()
        let ada = try await shop.customers.create(.init(email: "ada@example.com", firstName: "Ada"), source: "admin")
        await #expect(throws: CustomerError.duplicate(field: "email", customerID: ada.id)) {
            try await shop.customers.create(.init(email: " ADA@example.com"), source: "admin")
        }
        await #expect(throws: ValidationError.self) { try await shop.customers.create(.init(firstName: "Nobody"), source: "admin") }
        let changed = try await shop.customers.update(ada.id, with: .init(lastName: "Lovelace", tags: ["VIP", "vip", "new"]))
        #expect(changed.tags == ["VIP", "new"])
        let updated = try shop.events.read(since: 0, topics: ["customers"], limit: 100).filter { $0.type == "customer.updated" }
        #expect(updated.count == 1)
        #expect(updated.first?.data == #"{"customer_id":"\#(ada.id)","fields":["last_name","tags"]}"#)
    }

    @Test func aMergeMovesOrdersAndAddsStatsButNotTwoAccounts() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", price: 1000, units: 20)
        let walkIn = try #require(try await Self.order(shop, quantity: 2, phone: "+447700900123").customerID)
        let online = try #require(try await Self.order(shop, quantity: 1, email: "ada@example.com").customerID)
        let kept = CustomerID(rawValue: online)
        let merged = try await shop.customers.merge(kept, from: CustomerID(rawValue: walkIn), actor: "admin")
        #expect(merged.phone == "+447700900123" && merged.email == "ada@example.com")
        #expect(merged.stats.ordersCount == 2 && merged.stats.totalSpent == 3000)
        #expect(try shop.customers.orders(of: kept, limit: 10, before: nil).items.count == 2)
        await #expect(throws: CustomerError.notFound(walkIn)) { try await shop.customers.update(CustomerID(rawValue: walkIn), with: .init()) }

        let other = try await shop.customers.create(.init(email: "bob@example.com"), source: "admin")
        try await shop.store.stores.writer.write { transaction in
            for id in [kept, other.id] {
                var customer = try #require(try shop.store.stores.customers.customer(id, in: transaction))
                customer.hasAccount = true
                try shop.store.stores.customers.update(customer, in: transaction)
            }
        }
        await #expect(throws: CustomerError.bothHaveAccounts) { try await shop.customers.merge(kept, from: other.id, actor: "admin") }
    }

    @Test func erasureForgetsThePersonAndKeepsTheBooks() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", price: 1000, units: 20)
        let order = try await Self.order(shop, quantity: 2, email: "ada@example.com")
        let id = CustomerID(rawValue: try #require(order.customerID))
        try await shop.customers.erase(id, actor: "admin")
        let erased = try shop.customers.customer(id)
        #expect(erased.erasedAt != nil && erased.email == nil && erased.addresses.isEmpty && erased.firstName == nil)
        let kept = try #require(try shop.orders.order(order.id))
        #expect(kept.totals == order.totals && kept.email == nil && kept.shippingAddress == nil)
        #expect(try shop.customers.find(email: "ada@example.com", phone: nil) == nil)
        let log = try shop.events.read(since: 0, topics: ["order:\(order.id)", "cart:\(order.cartID)", "customers"], limit: 1000)
        #expect(log.count > 3)
        #expect(!log.contains { $0.data.contains("ada@example.com") })
        await #expect(throws: CustomerError.erased(id)) { try await shop.customers.update(id, with: .init(firstName: "Ada")) }
    }

    @Test func segmentsAreCountedInTheStoreWithRelativeTimesResolvedAtEachRead() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", price: 1000, units: 20)
        _ = try await Self.order(shop, quantity: 3, email: "ada@example.com")
        shop.clock.advance(by: .seconds(40 * 86_400))
        _ = try await Self.order(shop, quantity: 1, email: "bob@example.com")
        _ = try await shop.customers.create(.init(email: "cy@example.com", tags: ["VIP"]), source: "admin")

        func count(_ json: String) async throws -> Int {
            let segment = try await shop.segments.create(name: "s", filter: try JSONParser.parse(Array(json.utf8)))
            return try shop.segments.count(segment)
        }
        #expect(try await count(#"{"orders_count":{"gte":1}}"#) == 2)
        #expect(try await count(#"{"last_order_at":{"after":"-30d"}}"#) == 1)
        #expect(try await count(#"{"not":{"last_order_at":{"after":"-30d"}}}"#) == 2)
        #expect(try await count(#"{"total_spent":{"gte":{"amount":3000,"currency":"GBP"}}}"#) == 1)
        #expect(try await count(#"{"tag":"vip"}"#) == 1)
        #expect(try await count(#"{"bought":{"sku":"MUG-1","min_times":2}}"#) == 0)
        #expect(try await count(#"{"any":[{"tag":"vip"},{"bought":{"sku":"MUG-1","since":"-1d"}}]}"#) == 2)
    }
}

/// The segment filter's grammar: what it accepts, where it says a filter is wrong, and its limits.
struct SegmentFilterTests {
    static let gbp = Currency("GBP")!

    static func parse(_ json: String) throws -> SegmentFilter {
        try SegmentFilter.parse(try JSONParser.parse(Array(json.utf8)), currency: gbp)
    }

    static func failure(_ json: String) -> [String] {
        do {
            _ = try parse(json)
            return []
        } catch let error as ValidationError {
            return error.errors.map(\.field)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func errorsNameThePathOfTheFailingCondition() {
        #expect(Self.failure(#"{"all":[{"tag":"vip"},{"consent":"email"},{"favourite_colour":"red"}]}"#) == ["filter.all[2].favourite_colour"])
        #expect(Self.failure(#"{"bought":{"sku":"X","min_times":0}}"#) == ["filter.bought.min_times"])
        #expect(Self.failure(#"{"total_spent":{"gte":{"amount":5,"currency":"EUR"}}}"#) == ["filter.total_spent.gte.currency"])
        #expect(Self.failure(#"{"last_order_at":{"after":"-30x"}}"#) == ["filter.last_order_at.after"])
        #expect(Self.failure(#"{"tag":"vip","consent":"email"}"#) == ["filter"])
        #expect(Self.failure(#"{"abandoned_cart":{}}"#) == ["filter.abandoned_cart.since"])
        #expect(Self.failure(#"{"bought":{"sku":"A","category":"B"}}"#) == ["filter.bought"])
    }

    @Test func depthAndSizeAreBounded() throws {
        let nested = { (depth: Int) in String(repeating: #"{"not":"#, count: depth) + #"{"tag":"vip"}"# + String(repeating: "}", count: depth) }
        _ = try Self.parse(nested(SegmentFilter.maxDepth - 1))
        #expect(!Self.failure(nested(SegmentFilter.maxDepth)).isEmpty)
        let wide = #"{"any":["# + (0..<50).map { _ in #"{"all":[{"tag":"a"},{"tag":"b"},{"tag":"c"}]}"# }.joined(separator: ",") + "]}"
        #expect(Self.failure(wide).first?.hasPrefix("filter.any[") == true)
    }

    @Test func relativeTimesResolveAgainstNow() throws {
        let now = try #require(Timestamp.date("2026-12-06T12:00:00Z"))
        let filter = try Self.parse(#"{"all":[{"last_order_at":{"after":"-2w","before":"2026-12-01T00:00:00Z"}},{"abandoned_cart":{"since":"-3h"}}]}"#)
        #expect(filter.resolved(now: now) == .all([
            .lastOrderAt(before: "2026-12-01T00:00:00Z", after: "2026-11-22T12:00:00Z"),
            .abandonedCart(since: "2026-12-06T09:00:00Z", idleSince: "2026-12-06T11:00:00Z"),
        ]))
    }
}

/// Sign-in codes and sessions: codes kept only as keyed hashes, sessions that slide with use and lapse
/// without it.
struct ShopperAuthTests {
    static func service(_ shop: TestShop) -> ShopperAuthService {
        ShopperAuthService(stores: shop.store.stores, customers: shop.customers, messages: shop.messages, secretsKey: Array(repeating: 7, count: 32))
    }

    /// The code in the last sign-in email to `email`.
    static func mailedCode(_ shop: TestShop, _ email: String) throws -> String {
        let mail = try #require(try shop.messages.messages(MessageFilter(channel: .email), limit: 1, before: nil).items.first)
        #expect(mail.recipient == email && mail.template == "sign_in_code" && mail.transactional)
        let digits = mail.text.split { !$0.isNumber }.filter { $0.count == 6 }
        return String(try #require(digits.first))
    }

    @Test func theCodeIsStoredHashedAndASessionSlidesWithUseAndLapsesWithout() async throws {
        let shop = try await TestShop()
        let auth = Self.service(shop)
        try await auth.requestCode(email: "Ada@Example.com")
        let code = try Self.mailedCode(shop, "ada@example.com")
        let stored = try await shop.store.stores.writer.write { transaction in
            try shop.store.stores.shopperAuth.code(for: "ada@example.com", in: transaction)
        }
        #expect(stored?.hash.count == 32 && stored?.hash != Array(code.utf8))

        let session = try await auth.signIn(email: "ada@example.com", code: code)
        #expect(session.customer.hasAccount && session.customer.email == "ada@example.com")
        #expect(auth.authenticate(session.token) == session.customer.id)
        #expect(auth.authenticate(session.token + "x") == nil)

        // Used every 20 days, it lives on past the first 30; left for 31 days, it lapses.
        for _ in 0..<3 {
            shop.clock.advance(by: .seconds(20 * 86_400))
            #expect(auth.authenticate(session.token) == session.customer.id)
            try await shop.store.stores.writer.write { _ in }
        }
        shop.clock.advance(by: .seconds(31 * 86_400))
        #expect(auth.authenticate(session.token) == nil)
    }

    @Test func aPassNamesItsCustomerForFiveMinutesAndCannotBeForged() async throws {
        let shop = try await TestShop()
        let auth = Self.service(shop)
        let ada = CustomerID(rawValue: "cus_ada")
        let pass = auth.pass(for: ada)
        #expect(auth.customer(fromPass: pass.pass) == ada)
        #expect(auth.customer(fromPass: String(pass.pass.dropLast()) + (pass.pass.last == "A" ? "B" : "A")) == nil)
        let other = ShopperAuthService(stores: shop.store.stores, customers: shop.customers, messages: shop.messages,
                                       secretsKey: Array(repeating: 8, count: 32))
        #expect(other.customer(fromPass: pass.pass) == nil)
        shop.clock.advance(by: .seconds(301))
        #expect(auth.customer(fromPass: pass.pass) == nil)
    }
}
