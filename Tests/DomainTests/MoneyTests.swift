import Foundation
import Testing
@testable import ShopfloorDomain

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
