/// Computes a cart's totals: subtotal, discount, shipping, tax and total, in integer minor units.
///
/// Rounding rule (documented in openapi.yaml): amounts are worked out per line and each rounded
/// half to even; a percentage discount is taken from each line; a fixed discount is spread over the
/// lines in proportion to their totals (largest remainders get the odd units) and never exceeds the
/// subtotal; tax is computed on each line after its discount, and on shipping when the shop taxes
/// shipping. With prices excluding tax, `total = subtotal − discount + shipping + tax`; with prices
/// including tax, the tax is the part already inside them and `total = subtotal − discount + shipping`.
/// Nothing is ever negative.
public enum Pricing {
    /// What pricing needs to know of a cart beyond its lines.
    public struct Input: Sendable {
        public var currency: Currency
        public var lineTotals: [Int64]
        public var discounts: [Discount]
        public var shipping: ShippingMethod?
        public var taxRateBp: Int
        public var settings: ShopSettings

        public init(currency: Currency, lineTotals: [Int64], discounts: [Discount], shipping: ShippingMethod?, taxRateBp: Int, settings: ShopSettings) {
            self.currency = currency
            self.lineTotals = lineTotals
            self.discounts = discounts
            self.shipping = shipping
            self.taxRateBp = taxRateBp
            self.settings = settings
        }
    }

    public static func totals(_ input: Input) -> CartTotals {
        let subtotal = input.lineTotals.reduce(0, +)
        var lineDiscounts = [Int64](repeating: 0, count: input.lineTotals.count)
        for discount in input.discounts {
            let remaining = zip(input.lineTotals, lineDiscounts).map { $0 - $1 }
            let taken: [Int64]
            switch discount.kind {
            case .percent:
                let percent = min(max(discount.value, 0), 100)
                taken = remaining.map { multiplyDivideHalfEven($0, percent, 100) }
            case .fixed:
                taken = spread(min(max(discount.value, 0), remaining.reduce(0, +)), over: remaining)
            case .freeShipping:
                taken = remaining.map { _ in 0 }
            }
            for index in lineDiscounts.indices { lineDiscounts[index] += min(taken[index], remaining[index]) }
        }
        let discount = lineDiscounts.reduce(0, +)
        let freeShipping = input.discounts.contains { $0.kind == .freeShipping }
        var shipping: Int64 = 0
        if let method = input.shipping, !freeShipping {
            let qualifies = method.freeOver.map { subtotal - discount >= $0.amount } ?? false
            shipping = qualifies ? 0 : method.price.amount
        }
        let bp = Int64(max(input.taxRateBp, 0))
        let divisor: Int64 = input.settings.pricesIncludeTax ? 10_000 + bp : 10_000
        var tax: Int64 = 0
        for (total, lineDiscount) in zip(input.lineTotals, lineDiscounts) {
            tax += multiplyDivideHalfEven(total - lineDiscount, bp, divisor)
        }
        if input.settings.shippingTaxable { tax += multiplyDivideHalfEven(shipping, bp, divisor) }
        let total = subtotal - discount + shipping + (input.settings.pricesIncludeTax ? 0 : tax)
        let money = { (amount: Int64) in Money(amount: amount, currency: input.currency) }
        return CartTotals(subtotal: money(subtotal), discount: money(discount), shipping: money(shipping), tax: money(tax), total: money(total))
    }

    /// `value × multiplier / divisor` rounded half to even, for non-negative operands; worked in
    /// 128 bits so large totals cannot overflow on the way.
    public static func multiplyDivideHalfEven(_ value: Int64, _ multiplier: Int64, _ divisor: Int64) -> Int64 {
        guard value > 0, multiplier > 0, divisor > 0 else { return 0 }
        let numerator = Int128(value) * Int128(multiplier)
        let quotient = numerator / Int128(divisor)
        let twice = (numerator % Int128(divisor)) * 2
        let rounded = twice > Int128(divisor) || (twice == Int128(divisor) && quotient % 2 == 1) ? quotient + 1 : quotient
        return Int64(rounded)
    }

    /// Splits `amount` over `weights` in proportion, by largest remainder, so the parts add up exactly.
    static func spread(_ amount: Int64, over weights: [Int64]) -> [Int64] {
        let total = weights.reduce(0, +)
        guard amount > 0, total > 0 else { return weights.map { _ in 0 } }
        let scaled = weights.map { Int128($0) * Int128(amount) }
        var parts = scaled.map { Int64($0 / Int128(total)) }
        var left = amount - parts.reduce(0, +)
        let byRemainder = weights.indices.sorted { scaled[$0] % Int128(total) > scaled[$1] % Int128(total) }
        for index in byRemainder where left > 0 {
            parts[index] += 1
            left -= 1
        }
        return parts
    }
}
