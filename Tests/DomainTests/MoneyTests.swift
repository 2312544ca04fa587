import Foundation
@testable import ShopfloorDomain
@testable import ShopfloorJSON
import Testing

struct MoneyTests {
    @Test func knownCurrencyDecodesAndUnknownIsRefused() throws {
        let money = try JSONCoding.decode(Money.self, from: Array(#"{"amount":1299,"currency":"GBP"}"#.utf8))
        #expect(money == Money(amount: 1299, currency: Currency("GBP")!))
        #expect(throws: DecodingError.self) {
            try JSONCoding.decode(Money.self, from: Array(#"{"amount":1,"currency":"XXX"}"#.utf8))
        }
    }

    @Test func minorUnitDigitsFollowISO4217() {
        #expect(Currency("JPY")?.minorUnitDigits == 0)
        #expect(Currency("KWD")?.minorUnitDigits == 3)
        #expect(Currency("gbp") == nil)
    }
}

struct JSONWriterTests {
    struct Sample: Encodable {
        var productID: String
        var count: Int
        var ratio: Double
        var small: UInt8
        var flag: Bool
        var missing: String?
        var nested: [String: [Int]]
        var list: [Money]
    }

    @Test func writesCompactSnakeCaseJSONThatFoundationReadsBack() throws {
        let sample = Sample(productID: "p\"1\n", count: -3, ratio: 0.5, small: 7, flag: true, missing: nil,
                            nested: ["a": [1, 2]], list: [Money(amount: 5, currency: Currency("EUR")!)])
        let bytes = try JSONCoding.encode(sample)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text == #"{"product_id":"p\"1\n","count":-3,"ratio":0.5,"small":7,"flag":true,"nested":{"a":[1,2]},"list":[{"amount":5,"currency":"EUR"}]}"#)
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        #expect(object?["product_id"] as? String == "p\"1\n")
    }

    @Test func explicitNilIsNullAndEmptyContainersClose() throws {
        #expect(String(decoding: try JSONCoding.encode(Page<Int>(items: [], nextCursor: nil)), as: UTF8.self) == #"{"items":[],"next_cursor":null}"#)
        #expect(String(decoding: try JSONCoding.encode([String: Int]()), as: UTF8.self) == "{}")
        #expect(String(decoding: try JSONCoding.encode([[Int]]([[], [1]])), as: UTF8.self) == "[[],[1]]")
    }
}
