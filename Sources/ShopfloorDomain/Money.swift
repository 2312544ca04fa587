/// An amount of money in integer minor units of a currency (API.md): `1299` GBP is £12.99.
/// Never a float, so sums and rounding are exact.
public struct Money: Codable, Sendable, Hashable {
    public var amount: Int64
    public var currency: Currency

    public init(amount: Int64, currency: Currency) {
        self.amount = amount
        self.currency = currency
    }
}

/// An ISO 4217 currency code that Shopfloor knows, with its number of minor units.
public struct Currency: Codable, Sendable, Hashable, CustomStringConvertible {
    public let code: String

    /// `nil` unless `code` is a known, active ISO 4217 code (uppercase).
    public init?(_ code: String) {
        guard Currency.minorUnits[code] != nil else { return nil }
        self.code = code
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let currency = Currency(code) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(code)' is not a supported ISO 4217 currency code")
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    public var description: String { code }

    /// Digits after the decimal point (JPY 0, GBP 2, KWD 3).
    public var minorUnitDigits: Int { Currency.minorUnits[code] ?? 2 }

    static let minorUnits: [String: Int] = [
        "AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
        "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
        "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KES": 2, "KRW": 0, "KWD": 3, "MAD": 2, "MXN": 2, "MYR": 2,
        "NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2, "QAR": 2, "RON": 2,
        "RSD": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2,
        "VND": 0, "ZAR": 2,
    ]
}

extension Money {
    /// The amount as a reader expects it, `12.50 GBP`, with the currency's own number of minor digits:
    /// for receipts and messages.
    public var displayText: String {
        let digits = currency.minorUnitDigits
        guard digits > 0 else { return "\(amount) \(currency.code)" }
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let magnitude = amount.magnitude
        let fraction = String(magnitude % scale)
        let padded = String(repeating: "0", count: digits - fraction.count) + fraction
        return "\(amount < 0 ? "-" : "")\(magnitude / scale).\(padded) \(currency.code)"
    }
}
