import Foundation
import ShopfloorAPI
@testable import ShopfloorDomain
import ShopfloorJSON
import Testing

struct CartJSONTests {
    /// The hand-written cart body is byte for byte what the `Encodable` conformance writes (an array
    /// of carts still goes through the `Encoder`), with every optional member present or absent.
    @Test func handWrittenBodyIsTheEncodableOne() throws {
        let gbp = Currency("GBP")!
        let address = Address(name: "Ada \"Countess\" Lovelace", line1: "1 High St", line2: nil, city: "London", region: "LDN",
                              postalCode: "N1", country: "GB", phone: nil)
        let customisation = try JSONParser.parse(Array(#"{"b":[1,2.5,"x\ny"],"a":{"nested":null,"é":true}}"#.utf8))
        var generator = SystemRandomNumberGenerator()
        for round in 0..<64 {
            func some<T>(_ value: T) -> T? { Bool.random(using: &generator) ? value : nil }
            let lines = (0..<(round % 4)).map { index in
                CartLine(id: CartLineID(rawValue: "line_\(index)"), sku: "SKU-\(index)", title: "Mug — \\ \(index)", quantity: index + 1,
                         unitPrice: Money(amount: 1299, currency: gbp), lineTotal: Money(amount: Int64(1299 * (index + 1)), currency: gbp),
                         customisation: some(customisation))
            }
            let money = Money(amount: -Int64(round), currency: gbp)
            var cart = Cart(
                id: CartID(rawValue: "cart_\(round)"), channel: round % 2 == 0 ? .online : .pos, status: .active, location: some("main"),
                customerID: some("cus_1"), email: some("ada@example.com"), currency: gbp, checkoutStep: "cart",
                shippingAddress: some(address), billingAddress: some(address), shippingMethod: some("ship_1"),
                discountCodes: round % 3 == 0 ? [] : ["SAVE10", "FREE\tSHIP"], lines: lines,
                expiresAt: "2026-12-01T21:00:00Z", createdAt: "2026-12-01T20:00:00Z", updatedAt: "2026-12-01T20:30:00Z")
            cart.totals = CartTotals(subtotal: money, discount: money, shipping: money, tax: money, total: money)
            let direct = try JSONCoding.encode(cart)
            let encoded = try JSONCoding.encode([cart])
            #expect(direct == Array(encoded.dropFirst().dropLast()), "round \(round)")
        }
    }
}
