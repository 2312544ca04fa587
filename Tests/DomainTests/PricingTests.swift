import Testing
@testable import ShopfloorDomain

/// `Pricing`: the documented rounding rule (per line, half to even), the spreading of fixed
/// discounts, worked examples, and a property test over random carts, discounts and tax settings.
struct PricingTests {
    static let gbp = Currency("GBP")!

    static func discount(_ kind: Discount.Kind, _ value: Int64 = 0) -> Discount {
        Discount(id: .make(), code: nil, kind: kind, value: value, currency: kind == .fixed ? gbp : nil, customerID: nil, minSubtotal: nil,
                 maxUses: nil, maxUsesPerCustomer: nil, startsAt: nil, endsAt: nil, disabled: false, uses: 0, createdAt: "2026-01-01T00:00:00Z")
    }

    static func shipping(_ price: Int64, freeOver: Int64? = nil) -> ShippingMethod {
        ShippingMethod(id: .make(), name: "Standard", price: Money(amount: price, currency: gbp), countries: ["GB"],
                       freeOver: freeOver.map { Money(amount: $0, currency: gbp) }, collectInStore: nil, createdAt: "2026-01-01T00:00:00Z")
    }

    static func settings(includeTax: Bool = false, shippingTaxable: Bool = true) -> ShopSettings {
        var settings = ShopSettings()
        settings.pricesIncludeTax = includeTax
        settings.shippingTaxable = shippingTaxable
        return settings
    }

    static func totals(_ lines: [Int64], _ discounts: [Discount] = [], shipping: ShippingMethod? = nil, bp: Int = 0,
                       settings: ShopSettings = ShopSettings()) -> [Int64] {
        let totals = Pricing.totals(Pricing.Input(currency: gbp, lineTotals: lines, discounts: discounts, shipping: shipping, taxRateBp: bp,
                                                  settings: settings))
        let all = [totals.subtotal, totals.discount, totals.shipping, totals.tax, totals.total]
        #expect(all.allSatisfy { $0.currency == gbp })
        return all.map(\.amount)
    }

    // MARK: Rounding

    @Test func halfEvenRoundsTiesToTheEvenNeighbour() {
        #expect(Pricing.multiplyDivideHalfEven(1, 1, 2) == 0)  // 0.5
        #expect(Pricing.multiplyDivideHalfEven(3, 1, 2) == 2)  // 1.5
        #expect(Pricing.multiplyDivideHalfEven(5, 1, 2) == 2)  // 2.5
        #expect(Pricing.multiplyDivideHalfEven(7, 1, 2) == 4)  // 3.5
        #expect(Pricing.multiplyDivideHalfEven(1230, 15, 100) == 184)  // 184.5
        #expect(Pricing.multiplyDivideHalfEven(1250, 15, 100) == 188)  // 187.5
    }

    @Test func halfEvenRoundsNonTiesToTheNearest() {
        #expect(Pricing.multiplyDivideHalfEven(7, 1, 5) == 1)  // 1.4
        #expect(Pricing.multiplyDivideHalfEven(8, 1, 5) == 2)  // 1.6
        #expect(Pricing.multiplyDivideHalfEven(5997, 15, 100) == 900)  // 899.55
        #expect(Pricing.multiplyDivideHalfEven(500, 2000, 12_000) == 83)  // 83.33
        #expect(Pricing.multiplyDivideHalfEven(1080, 2000, 12_000) == 180)
        #expect(Pricing.multiplyDivideHalfEven(10, 3, 1) == 30)
    }

    @Test func halfEvenIsZeroForZeroOrNegativeOperands() {
        #expect(Pricing.multiplyDivideHalfEven(0, 2000, 10_000) == 0)
        #expect(Pricing.multiplyDivideHalfEven(-100, 2000, 10_000) == 0)
        #expect(Pricing.multiplyDivideHalfEven(100, 0, 10_000) == 0)
        #expect(Pricing.multiplyDivideHalfEven(100, 2000, 0) == 0)
    }

    @Test func halfEvenDoesNotOverflowOnTheWay() {
        #expect(Pricing.multiplyDivideHalfEven(Int64.max, 10_000, 10_000) == Int64.max)
        #expect(Pricing.multiplyDivideHalfEven(Int64.max, 2000, 12_000) == Int64((Int128(Int64.max) * 2000 + 6000) / 12_000))
    }

    @Test func halfEvenMatchesAnExactReferenceOverSmallOperands() {
        for value in Int64(0)...300 {
            for (multiplier, divisor) in [(Int64(1), Int64(2)), (15, 100), (2000, 10_000), (2000, 12_000), (7, 3), (1, 8)] {
                let numerator = value * multiplier
                let quotient = numerator / divisor, remainder = numerator % divisor
                let expected = 2 * remainder > divisor || (2 * remainder == divisor && quotient % 2 == 1) ? quotient + 1 : quotient
                #expect(Pricing.multiplyDivideHalfEven(value, multiplier, divisor) == expected)
                #expect(abs(Double(Pricing.multiplyDivideHalfEven(value, multiplier, divisor)) - Double(numerator) / Double(divisor)) <= 0.5)
            }
        }
    }

    // MARK: Spread

    @Test func spreadIsProportionalWithLargestRemainders() {
        #expect(Pricing.spread(500, over: [1001, 2002]) == [167, 333])
        #expect(Pricing.spread(500, over: [1000, 3000]) == [125, 375])
        #expect(Pricing.spread(1, over: [1, 100]) == [0, 1])
        #expect(Pricing.spread(7, over: [7]) == [7])
        let thirds = Pricing.spread(10, over: [1, 1, 1])
        #expect(thirds.reduce(0, +) == 10 && thirds.allSatisfy { $0 == 3 || $0 == 4 })
    }

    @Test func spreadOfNothingOrOverNothingIsZeros() {
        #expect(Pricing.spread(0, over: [100, 200]) == [0, 0])
        #expect(Pricing.spread(50, over: [0, 0]) == [0, 0])
        #expect(Pricing.spread(50, over: []) == [])
        #expect(Pricing.spread(50, over: [0, 10]) == [0, 50])
    }

    @Test func spreadSumsExactlyAndStaysWithinOneOfItsShare() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let weights = (0..<Int.random(in: 1...8, using: &random)).map { _ in Int64.random(in: 0...50_000, using: &random) }
            let total = weights.reduce(0, +)
            let amount = Int64.random(in: 0...max(total, 1), using: &random)
            let parts = Pricing.spread(amount, over: weights)
            #expect(parts.count == weights.count)
            guard total > 0 else {
                #expect(parts.allSatisfy { $0 == 0 })
                continue
            }
            #expect(parts.reduce(0, +) == amount)
            for (part, weight) in zip(parts, weights) {
                let exact = Double(weight) * Double(amount) / Double(total)
                #expect(part >= 0 && Double(part) > exact - 1 && Double(part) < exact + 1, "\(part) of \(amount) over \(weights)")
                #expect(part <= weight)
            }
        }
    }

    // MARK: Worked examples (the same as the black-box checkout tests)

    @Test func percentCodeWithFreeShippingOverThreshold() {
        let lines: [Int64] = [5997, 1230]
        #expect(Self.totals(lines, [Self.discount(.percent, 15)], shipping: Self.shipping(495, freeOver: 5000), bp: 2000)
            == [7227, 1084, 0, 1228, 7371])
        #expect(Self.totals([1999], [Self.discount(.percent, 15)], shipping: Self.shipping(495, freeOver: 5000), bp: 2000)
            == [1999, 300, 495, 439, 2633])
    }

    @Test func freeOverComparesTheDiscountedSubtotalInclusively() {
        let method = Self.shipping(495, freeOver: 5000)
        #expect(Self.totals([5000], shipping: method)[2] == 0)
        #expect(Self.totals([4999], shipping: method)[2] == 495)
        #expect(Self.totals([5500], [Self.discount(.percent, 10)], shipping: method)[2] == 495)  // 4950 after the discount
    }

    @Test func fixedDiscountIsSpreadAndCappedAtTheSubtotal() {
        #expect(Self.totals([1001, 2002], [Self.discount(.fixed, 500)], shipping: Self.shipping(495), bp: 2000) == [3003, 500, 495, 600, 3598])
        #expect(Self.totals([1000], [Self.discount(.fixed, 5000)], shipping: Self.shipping(495), bp: 2000) == [1000, 1000, 495, 99, 594])
    }

    @Test func stackedDiscountsTakeFromWhatIsLeft() {
        // 10 % of 2000 is 200; the fixed 1900 then takes the remaining 1800 only.
        #expect(Self.totals([2000], [Self.discount(.percent, 10), Self.discount(.fixed, 1900)]) == [2000, 2000, 0, 0, 0])
        #expect(Self.totals([2000], [Self.discount(.percent, 50), Self.discount(.percent, 50)]) == [2000, 1500, 0, 0, 500])
        #expect(Self.totals([2000], [Self.discount(.percent, 100)], shipping: Self.shipping(300), bp: 2000) == [2000, 2000, 300, 60, 360])
    }

    @Test func freeShippingDiscountZeroesShippingOnly() {
        #expect(Self.totals([2000], [Self.discount(.freeShipping)], shipping: Self.shipping(495), bp: 2000) == [2000, 0, 0, 400, 2400])
    }

    @Test func pricesIncludingTaxShowTheIncludedPart() {
        let inclusive = Self.settings(includeTax: true)
        #expect(Self.totals([1200], [Self.discount(.percent, 10)], shipping: Self.shipping(500), bp: 2000, settings: inclusive)
            == [1200, 120, 500, 263, 1580])
        let untaxedShipping = Self.settings(includeTax: true, shippingTaxable: false)
        #expect(Self.totals([1200], [Self.discount(.percent, 10)], shipping: Self.shipping(500), bp: 2000, settings: untaxedShipping)
            == [1200, 120, 500, 180, 1580])
        #expect(Self.totals([1000], shipping: Self.shipping(500), bp: 2000, settings: Self.settings(shippingTaxable: false))
            == [1000, 0, 500, 200, 1700])
    }

    @Test func taxIsRoundedPerLine() {
        // 3 lines of 0.5 tax each: per line half-even gives 0 + 0 + 0, not round(1.5) = 2.
        #expect(Self.totals([5, 5, 5], bp: 1000) == [15, 0, 0, 0, 15])
        #expect(Self.totals([35, 35], bp: 1000) == [70, 0, 0, 8, 78])  // 3.5 → 4 twice
    }

    @Test func emptyCartIsAllZero() {
        #expect(Self.totals([], [Self.discount(.fixed, 100), Self.discount(.percent, 10)], bp: 2000) == [0, 0, 0, 0, 0])
    }

    // MARK: Property

    @Test func totalIsTheSumOfItsPartsAndNeverNegative() {
        var random = SplitMix64(seed: 20_261_122)
        for _ in 0..<5000 {
            let lines = (0..<Int.random(in: 0...6, using: &random)).map { _ in
                Bool.random(using: &random) ? Int64.random(in: 0...5000, using: &random) : Int64.random(in: 0...2_000_000, using: &random)
            }
            var discounts: [Discount] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                switch Int.random(in: 0...2, using: &random) {
                case 0: discounts.append(Self.discount(.percent, Int64.random(in: 1...100, using: &random)))
                case 1: discounts.append(Self.discount(.fixed, Int64.random(in: 1...300_000, using: &random)))
                default: discounts.append(Self.discount(.freeShipping))
                }
            }
            let method = Bool.random(using: &random)
                ? Self.shipping(Int64.random(in: 0...3000, using: &random),
                                freeOver: Bool.random(using: &random) ? Int64.random(in: 0...200_000, using: &random) : nil)
                : nil
            let bp = [0, 500, 2000, 10_000, Int.random(in: 0...10_000, using: &random)].randomElement(using: &random)!
            let settings = Self.settings(includeTax: Bool.random(using: &random), shippingTaxable: Bool.random(using: &random))
            let context = "lines \(lines) discounts \(discounts.map { "\($0.kind) \($0.value)" }) shipping \(method.map { "\($0.price.amount)/\($0.freeOver?.amount ?? -1)" } ?? "none") bp \(bp) incl \(settings.pricesIncludeTax) shipTax \(settings.shippingTaxable)"

            let result = Self.totals(lines, discounts, shipping: method, bp: bp, settings: settings)
            let (subtotal, discount, shipping, tax, total) = (result[0], result[1], result[2], result[3], result[4])
            #expect(result.allSatisfy { $0 >= 0 }, "\(result) for \(context)")
            #expect(subtotal == lines.reduce(0, +), "\(context)")
            #expect(discount <= subtotal, "\(result) for \(context)")
            #expect(total == subtotal - discount + shipping + (settings.pricesIncludeTax ? 0 : tax), "\(result) for \(context)")
            if discounts.isEmpty { #expect(discount == 0) }
            if discounts.contains(where: { $0.kind == .freeShipping }) || method == nil { #expect(shipping == 0) }
            if let method, !discounts.contains(where: { $0.kind == .freeShipping }) {
                let free = method.freeOver.map { subtotal - discount >= $0.amount } ?? false
                #expect(shipping == (free ? 0 : method.price.amount), "\(result) for \(context)")
            }
            // Tax is within half a unit per rounded amount of the exact tax on what is charged.
            let taxed = Double(subtotal - discount) + (settings.shippingTaxable ? Double(shipping) : 0)
            let exact = taxed * Double(bp) / (settings.pricesIncludeTax ? Double(10_000 + bp) : 10_000)
            #expect(abs(Double(tax) - exact) <= Double(lines.count + 1) * 0.5 + 1e-6, "\(result) for \(context)")
            if settings.pricesIncludeTax { #expect(tax <= subtotal - discount + shipping, "\(result) for \(context)") }
            // A single percentage is taken line by line, each rounded half to even.
            if discounts.count == 1, discounts[0].kind == .percent {
                #expect(discount == lines.reduce(0) { $0 + Pricing.multiplyDivideHalfEven($1, discounts[0].value, 100) }, "\(context)")
            }
            if discounts.count == 1, discounts[0].kind == .fixed {
                #expect(discount == min(discounts[0].value, subtotal), "\(context)")
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so the property test is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
