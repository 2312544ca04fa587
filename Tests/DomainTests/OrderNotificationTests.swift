import Foundation
import Testing
@testable import ShopfloorDomain

/// Push and SMS about an order: browsers subscribed for the cart or by tracking token get the
/// confirmation and each status change; the dispatch news goes by SMS to an international number.
struct OrderNotificationTests {
    static let p256dh = "B" + String(repeating: "A", count: 86)
    static let auth = String(repeating: "A", count: 22)

    static func subscribe(_ shop: TestShop, endpoint: String, cart: CartID? = nil, token: String? = nil) async throws -> PushSubscription {
        try await shop.push.subscribe(.init(endpoint: endpoint, p256dh: p256dh, auth: auth, visitor: "vis_1", cartID: cart, trackingToken: token))
    }

    @Test func aCartsSubscriptionHearsOfItsOrderAndATrackingTokenOneOfLaterNews() async throws {
        let (shop, shipping) = try await CheckoutServiceTests.shop()
        let cart = try await CheckoutServiceTests.readyCart(shop, shipping)
        _ = try await Self.subscribe(shop, endpoint: "https://push.example/a", cart: cart.id)
        let order = try await shop.checkout.complete(cart.id, payment: CheckoutServiceTests.card, payer: nil, request: nil)
        var pushes = try shop.messages.messages(MessageFilter(channel: .push, orderID: order.id), limit: 10, before: nil).items
        #expect(pushes.map(\.recipient) == ["https://push.example/a"])
        let confirmation = try #require(pushes.first)
        #expect(confirmation.subject == "Your order #1001 at Test Shop")
        #expect(confirmation.text == "Thank you for your order #1001 at Test Shop. Follow it: https://shop.example/v1/track/\(order.trackingToken)")
        #expect(confirmation.html == nil)
        #expect(confirmation.link == "https://shop.example/v1/track/\(order.trackingToken)")

        _ = try await Self.subscribe(shop, endpoint: "https://push.example/b", token: order.trackingToken)
        _ = try await shop.orders.transition(order.id, to: .confirmed, actor: "test", note: nil, trackingNumber: nil)
        pushes = try shop.messages.messages(MessageFilter(channel: .push, orderID: order.id), limit: 10, before: nil).items
        #expect(pushes.filter { $0.template == "order_status" }.map(\.recipient).sorted() == ["https://push.example/a", "https://push.example/b"])
        #expect(pushes.first?.text.hasPrefix("Your order #1001 is confirmed.") == true)
    }

    @Test func subscribingAgainReplacesTheKeysAndKeepsWhatItFollows() async throws {
        let (shop, shipping) = try await CheckoutServiceTests.shop()
        let cart = try await CheckoutServiceTests.readyCart(shop, shipping)
        let first = try await Self.subscribe(shop, endpoint: "https://push.example/a", cart: cart.id)
        let again = try await shop.push.subscribe(.init(endpoint: "https://push.example/a", p256dh: "B" + String(repeating: "C", count: 86),
                                                        auth: Self.auth, visitor: nil, cartID: nil, trackingToken: nil))
        #expect(again.id == first.id)
        #expect(again.cartID == cart.id)
        #expect(again.p256dh.hasSuffix("CCC"))
        #expect(try await shop.push.unsubscribe(endpoint: "https://push.example/a"))
        #expect(try shop.push.subscription(endpoint: "https://push.example/a") == nil)
    }

    @Test func badSubscriptionsAreRefused() async throws {
        let shop = try await TestShop()
        let error = await #expect(throws: ValidationError.self) {
            try await shop.push.subscribe(.init(endpoint: "ftp://x", p256dh: "short", auth: "!!", visitor: nil, cartID: nil, trackingToken: nil))
        }
        #expect(error?.errors.map(\.field) == ["endpoint", "keys.p256dh", "keys.auth"])
        await #expect(throws: ValidationError.self) {
            try await shop.push.subscribe(.init(endpoint: "https://push.example/a", p256dh: Self.p256dh, auth: Self.auth, visitor: nil,
                                                cartID: CartID(rawValue: "cart_nope"), trackingToken: nil))
        }
    }

    @Test func theDispatchNewsGoesBySMSToAnInternationalNumber() async throws {
        let (shop, shipping) = try await CheckoutServiceTests.shop()
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        var address = TestShop.address
        address.phone = "+44 20 7946-0958"
        _ = try await shop.checkout.update(cart.id, with: .init(email: "ada@example.com", shippingAddress: address, shippingMethod: shipping.id.rawValue))
        let order = try await shop.checkout.complete(cart.id, payment: CheckoutServiceTests.card, payer: nil, request: nil)
        for step in [OrderStatus.confirmed, .packed] {
            _ = try await shop.orders.transition(order.id, to: step, actor: "test", note: nil, trackingNumber: nil)
        }
        #expect(try shop.messages.messages(MessageFilter(channel: .sms), limit: 10, before: nil).items.isEmpty)
        _ = try await shop.orders.transition(order.id, to: .dispatched, actor: "test", note: nil, trackingNumber: "RM123456789GB")
        let sms = try shop.messages.messages(MessageFilter(channel: .sms, orderID: order.id), limit: 10, before: nil).items
        #expect(sms.map(\.recipient) == ["+442079460958"])
        #expect(sms.first?.subject == nil)
        #expect(sms.first?.text.hasPrefix("Your order #1001 is on its way. Tracking number: RM123456789GB.") == true)
        #expect(ContactAddress.phone("020 7946 0958") == nil)
        #expect(ContactAddress.phone("+0123456789") == nil)
    }
}
