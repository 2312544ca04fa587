import Foundation
import Testing
@testable import ShopfloorDomain

/// Completion against a temporary store: totals with discount, shipping and tax; the cart's reserved
/// units sold in the order's transaction; idempotent retries; order transitions with restocking.
struct CheckoutServiceTests {
    static let card = PaymentRequest(method: "test_card", cardNumber: "4242424242424242")

    /// A shop charging 20 % UK tax on goods and shipping, with standard shipping at £4.95.
    static func shop() async throws -> (TestShop, ShippingMethod) {
        let shop = try await TestShop()
        _ = try await shop.pricing.createTaxRate(country: "GB", region: nil, rateBp: 2000, name: "VAT")
        let shipping = try await shop.pricing.createShippingMethod(
            name: "Standard", price: Money(amount: 495, currency: Currency("GBP")!), countries: ["GB"], freeOver: nil, collectInStore: nil)
        try await shop.stocked("MUG-1", price: 1000)
        return (shop, shipping)
    }

    /// An online cart with `quantity` mugs, an email, an address and standard shipping.
    static func readyCart(_ shop: TestShop, _ shipping: ShippingMethod, quantity: Int = 2, codes: [String]? = nil) async throws -> Cart {
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: quantity, customisation: nil)
        return try await shop.checkout.update(cart.id, with: .init(
            email: "ada@example.com", shippingAddress: TestShop.address, shippingMethod: shipping.id.rawValue, discountCodes: codes))
    }

    @Test func totalsAddShippingAndTaxAfterTheDiscount() async throws {
        let (shop, shipping) = try await Self.shop()
        _ = try await shop.pricing.createDiscount(.init(
            code: "TENOFF", kind: .percent, value: 10, currency: nil, customerID: nil, minSubtotal: nil, maxUses: nil,
            maxUsesPerCustomer: nil, startsAt: nil, endsAt: nil))
        let plain = try await Self.readyCart(shop, shipping)
        #expect(plain.totals == Self.totals(subtotal: 2000, discount: 0, shipping: 495, tax: 499, total: 2994))
        let discounted = try await Self.readyCart(shop, shipping, codes: ["tenoff"])
        #expect(discounted.totals == Self.totals(subtotal: 2000, discount: 200, shipping: 495, tax: 459, total: 2754))
    }

    @Test func completionSellsTheReservedUnitsAndPlacesAPaidOrder() async throws {
        let (shop, shipping) = try await Self.shop()
        let cart = try await Self.readyCart(shop, shipping)
        #expect(try shop.levels("MUG-1") == (5, 2))
        let order = try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: nil)
        #expect(order.status == .paid)
        #expect(order.history.map(\.status) == [.placed, .paid])
        #expect(order.number == "#1001")
        #expect(order.totals.total.amount == 2994)
        #expect(order.lines.map(\.allocations) == [[LineAllocation(location: "main", quantity: 2)]])
        #expect(try shop.levels("MUG-1") == (3, 0))
        #expect(try shop.carts.cart(cart.id)?.status == .completed)
        #expect(try shop.orders.order(order.id) == order)
        await #expect(throws: CheckoutError.alreadyCompleted(orderID: order.id.rawValue)) {
            try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: nil)
        }
    }

    @Test func aDeclinedCardLeavesTheCartAsItWas() async throws {
        let (shop, shipping) = try await Self.shop()
        let cart = try await Self.readyCart(shop, shipping)
        await #expect(throws: CheckoutError.paymentDeclined(reason: "card_declined")) {
            try await shop.checkout.complete(cart.id, payment: PaymentRequest(method: "test_card", cardNumber: "4000000000000002"),
                                             payer: nil, request: nil)
        }
        #expect(try shop.carts.cart(cart.id)?.status == .active)
        #expect(try shop.levels("MUG-1") == (5, 2))
    }

    @Test func anExpiredCartIsReservedAgainAtCompletion() async throws {
        let (shop, shipping) = try await Self.shop()
        let cart = try await Self.readyCart(shop, shipping)
        shop.clock.advance(by: TestShop.ttl)
        await shop.carts.expireDue()
        #expect(try shop.levels("MUG-1") == (5, 0))
        let order = try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: nil)
        #expect(order.status == .paid)
        #expect(try shop.levels("MUG-1") == (3, 0))
    }

    @Test func ordersMoveThroughTheirStatusesAndACancellationRestocks() async throws {
        let (shop, shipping) = try await Self.shop()
        let first = try await shop.checkout.complete(try await Self.readyCart(shop, shipping).id, payment: Self.card, payer: nil, request: nil)
        let confirmed = try await shop.orders.transition(first.id, to: .confirmed, actor: "admin", note: nil, trackingNumber: nil)
        #expect(confirmed.status == .confirmed)
        let cancelled = try await shop.orders.transition(first.id, to: .cancelled, actor: "admin", note: "changed mind", trackingNumber: nil)
        #expect(cancelled.history.map(\.status) == [.placed, .paid, .confirmed, .cancelled])
        #expect(cancelled.history.last?.note == "changed mind")
        #expect(try shop.levels("MUG-1") == (5, 0))
        await #expect(throws: CheckoutError.invalidTransition(from: .cancelled, to: .paid)) {
            try await shop.orders.transition(first.id, to: .paid, actor: "admin", note: nil, trackingNumber: nil)
        }

        let second = try await shop.checkout.complete(try await Self.readyCart(shop, shipping).id, payment: Self.card, payer: nil, request: nil)
        #expect(second.number == "#1002")
        for status in [OrderStatus.confirmed, .packed, .dispatched] {
            _ = try await shop.orders.transition(second.id, to: status, actor: "admin", note: nil,
                                                 trackingNumber: status == .dispatched ? "TRK1" : nil)
        }
        let refunded = try await shop.orders.transition(second.id, to: .refunded, actor: "admin", note: nil, trackingNumber: nil)
        #expect(refunded.trackingNumber == "TRK1")
        #expect(refunded.payments.map(\.status) == [.refunded])
        // Dispatched goods are not on the shelf: a refund after dispatch returns none.
        #expect(try shop.levels("MUG-1") == (3, 0))
        #expect(try shop.orders.tracking(refunded.trackingToken)?.status == .refunded)
    }

    @Test func aRetryWithTheSameKeyGetsTheSameOrderAndAnotherRequestIsRefused() async throws {
        let (shop, shipping) = try await Self.shop()
        let cart = try await Self.readyCart(shop, shipping)
        let request = IdempotentRequest(key: "checkout-1", fingerprint: [1])
        let first = try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: request)
        let again = try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: request)
        #expect(again == first)
        await #expect(throws: IdempotencyError.keyReused("checkout-1")) {
            try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: IdempotentRequest(key: "checkout-1", fingerprint: [2]))
        }
        #expect(try shop.levels("MUG-1") == (3, 0))
    }

    @Test func concurrentDuplicatesWaitForTheFirstAnswer() async throws {
        let (shop, shipping) = try await Self.shop()
        let cart = try await Self.readyCart(shop, shipping)
        let request = IdempotentRequest(key: "checkout-2", fingerprint: [7])
        let orders = try await withThrowingTaskGroup(of: Order.self) { group in
            for _ in 0..<6 {
                group.addTask { try await shop.checkout.complete(cart.id, payment: Self.card, payer: nil, request: request) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(orders.map(\.id)).count == 1)
        #expect(try shop.orders.orders(OrderService.Filter(), limit: 10, before: nil).items.count == 1)
        #expect(try shop.levels("MUG-1") == (3, 0))
    }

    static func totals(subtotal: Int64, discount: Int64, shipping: Int64, tax: Int64, total: Int64) -> CartTotals {
        let gbp = Currency("GBP")!
        return CartTotals(subtotal: Money(amount: subtotal, currency: gbp), discount: Money(amount: discount, currency: gbp),
                          shipping: Money(amount: shipping, currency: gbp), tax: Money(amount: tax, currency: gbp),
                          total: Money(amount: total, currency: gbp))
    }
}
