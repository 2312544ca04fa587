import Foundation
import Testing
@testable import ShopfloorDomain

/// A till sale's receipt: emailed in the sale's transaction with a single-use code for online use
/// (the shop's `receipt_discount`), the code good once, and none when the setting is off.
struct ReceiptTests {
    static let till = Principal(keyID: APIKeyID(rawValue: "key_till"), role: .pos, locationID: nil)

    /// A till sale of one mug to ada@example.com, handed over at once.
    static func tillSale(_ shop: TestShop) async throws -> Order {
        let cart = try await shop.carts.create(channel: .pos, location: shop.main, customerID: nil, currency: Currency("GBP")!)
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        _ = try await shop.checkout.update(cart.id, with: .init(email: "ada@example.com"))
        return try await shop.checkout.complete(cart.id, payment: PaymentRequest(method: "manual"), payer: till, request: nil)
    }

    @Test func aTillSaleEmailsAReceiptWithACodeGoodOnceOnline() async throws {
        let (shop, shipping) = try await CheckoutServiceTests.shop()
        let sale = try await Self.tillSale(shop)
        #expect(sale.status == .delivered)
        let messages = try shop.messages.messages(MessageFilter(orderID: sale.id), limit: 10, before: nil).items
        #expect(messages.map(\.template) == ["receipt"])
        let receipt = try #require(messages.first)
        let code = try #require(receipt.text.firstMatch(of: /THANKS-[0-9A-Z]{8}/)).output
        #expect(receipt.text.contains("online for 10 % off, until 20"))
        #expect(receipt.html?.contains("<strong>\(code)</strong>") == true)

        let first = try await CheckoutServiceTests.readyCart(shop, shipping, codes: [String(code.lowercased())])
        #expect(first.totals.discount.amount == 200)
        _ = try await shop.checkout.complete(first.id, payment: CheckoutServiceTests.card, payer: nil, request: nil)
        let second = try await CheckoutServiceTests.readyCart(shop, shipping)
        await #expect(throws: CheckoutError.discountRejected(code: String(code), reason: .exhausted)) {
            try await shop.checkout.update(second.id, with: .init(discountCodes: [String(code)]))
        }
    }

    @Test func withTheSettingOffTheReceiptHasNoCode() async throws {
        let (shop, _) = try await CheckoutServiceTests.shop()
        _ = try await shop.pricing.updateSettings { $0.receiptDiscount = nil }
        let sale = try await Self.tillSale(shop)
        let receipt = try #require(try shop.messages.messages(MessageFilter(orderID: sale.id), limit: 10, before: nil).items.first)
        #expect(receipt.template == "receipt")
        #expect(!receipt.text.contains("THANKS-"))
    }

    @Test func anIssuedCodeCannotBeTakenByANewDiscount() async throws {
        let (shop, _) = try await CheckoutServiceTests.shop()
        _ = try await shop.pricing.updateSettings { $0.receiptDiscount = DiscountOffer(kind: .fixed, value: 500, validDays: 7) }
        let sale = try await Self.tillSale(shop)
        let receipt = try #require(try shop.messages.messages(MessageFilter(orderID: sale.id), limit: 10, before: nil).items.first)
        #expect(receipt.text.contains("for 5.00 GBP off"))
        let code = String(try #require(receipt.text.firstMatch(of: /THANKS-[0-9A-Z]{8}/)).output)
        await #expect(throws: CheckoutError.self) {
            try await shop.pricing.createDiscount(.init(code: code, kind: .percent, value: 5, currency: nil, customerID: nil, minSubtotal: nil,
                                                        maxUses: nil, maxUsesPerCustomer: nil, startsAt: nil, endsAt: nil))
        }
        #expect(!shop.pricing.rules.discounts.contains { $0.code == code })
    }
}
