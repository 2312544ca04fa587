/// A tax rate for a country, or for one region of it (API.md, Pricing setup).
public struct TaxRate: Codable, Sendable, Equatable {
    public var id: TaxRateID
    public var country: String
    public var region: String?
    /// Basis points: 2000 is 20 %.
    public var rateBp: Int
    public var name: String?
    public var createdAt: String

    public init(id: TaxRateID, country: String, region: String?, rateBp: Int, name: String?, createdAt: String) {
        self.id = id
        self.country = country
        self.region = region
        self.rateBp = rateBp
        self.name = name
        self.createdAt = createdAt
    }
}

/// A way to ship an order, or to collect it in store.
public struct ShippingMethod: Codable, Sendable, Equatable {
    public var id: ShippingMethodID
    public var name: String
    public var price: Money
    /// ISO 3166-1 alpha-2 codes it ships to; empty for collection in store.
    public var countries: [String]
    /// Shipping is free once the discounted subtotal reaches this.
    public var freeOver: Money?
    /// The location code where the order is collected, for `collect_in_store` methods.
    public var collectInStore: String?
    public var createdAt: String

    /// Whether the method serves a cart shipping to `country` (collection serves any cart).
    func applies(to country: String?, currency: Currency) -> Bool {
        guard price.currency == currency else { return false }
        if collectInStore != nil { return true }
        guard let country else { return false }
        return countries.contains(country)
    }

    public init(id: ShippingMethodID, name: String, price: Money, countries: [String], freeOver: Money?, collectInStore: String?, createdAt: String) {
        self.id = id
        self.name = name
        self.price = price
        self.countries = countries
        self.freeOver = freeOver
        self.collectInStore = collectInStore
        self.createdAt = createdAt
    }
}

/// A discount: by code, or automatic when it has none (API.md, Pricing setup).
public struct Discount: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case percent, fixed
        case freeShipping = "free_shipping"
    }

    public var id: DiscountID
    /// `nil` for an automatic discount, applied to every cart that meets its conditions.
    public var code: String?
    public var kind: Kind
    /// Percent (10 is 10 %) for `percent`, minor units for `fixed`, 0 for `free_shipping`.
    public var value: Int64
    /// The currency of a `fixed` value.
    public var currency: Currency?
    /// Only this customer may use it (a code an admin sends a hesitating shopper).
    public var customerID: String?
    public var minSubtotal: Money?
    public var maxUses: Int?
    public var maxUsesPerCustomer: Int?
    public var startsAt: String?
    public var endsAt: String?
    public var disabled: Bool
    /// Orders placed with it so far.
    public var uses: Int
    public var createdAt: String
    /// Only this cart may use it (an offer to a live shopper who is not known as a customer).
    public var cartID: String?

    public init(id: DiscountID, code: String?, kind: Kind, value: Int64, currency: Currency?, customerID: String?, minSubtotal: Money?, maxUses: Int?, maxUsesPerCustomer: Int?, startsAt: String?, endsAt: String?, disabled: Bool, uses: Int, createdAt: String, cartID: String? = nil) {
        self.cartID = cartID
        self.id = id
        self.code = code
        self.kind = kind
        self.value = value
        self.currency = currency
        self.customerID = customerID
        self.minSubtotal = minSubtotal
        self.maxUses = maxUses
        self.maxUsesPerCustomer = maxUsesPerCustomer
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.disabled = disabled
        self.uses = uses
        self.createdAt = createdAt
    }
}

/// Shop-wide pricing settings.
public struct ShopSettings: Codable, Sendable, Equatable {
    /// Prices include tax (the tax shown is the part already in them) rather than tax added on top.
    public var pricesIncludeTax = false
    /// Tax applies to shipping too.
    public var shippingTaxable = true
    /// Where the shop is: the tax country of till sales and collected orders.
    public var shopCountry = "GB"
    public var shopRegion: String?
    /// The single-use code a till sale's receipt carries for online use (API.md: default 10 % for
    /// 30 days); `nil` gives receipts no code.
    public var receiptDiscount: DiscountOffer? = .receiptDefault
    /// The shop's IANA time zone: where "today" begins for the live stats and, later, schedules.
    public var timezone = "UTC"
    /// Store what storefronts report shoppers doing; off, `track` and `POST /v1/activity` are dropped.
    public var activityTracking = true
    /// Seconds a started checkout may stall before its shopper counts as hesitating.
    public var hesitatingAfter = 120
    /// Seconds a shopper with a full cart may keep every tab hidden before counting as hesitating.
    public var hiddenHesitatingAfter = 60
    /// Hours between two marketing emails to one customer, across every flow and campaign.
    public var emailCapHours = 16
    /// Hours between two marketing SMS to one customer.
    public var smsCapHours = 24
    /// Hours between two marketing push messages to one customer.
    public var pushCapHours = 24
    /// When no marketing SMS or push goes out, in the customer's time zone; `nil`: any time.
    public var quietHours: QuietHours? = .standard
    /// Whether tills (`pos` keys) serve online orders too: see, refund and take cash for them at the
    /// counter. Off, a till sees only its own location's sales (``OrderVisibility``).
    public var posServesOnline = false

    public init() {}

    /// The caps and quiet hours these settings give.
    public var marketingPace: MarketingPace {
        MarketingPace(emailCapHours: emailCapHours, smsCapHours: smsCapHours, pushCapHours: pushCapHours, quietHours: quietHours)
    }

    /// The stage rules these settings give.
    public var stageRules: StageRules { StageRules(hesitatingAfter: hesitatingAfter, hiddenHesitatingAfter: hiddenHesitatingAfter) }

    /// Settings stored before a member existed read as its default; `receipt_discount` stored as
    /// null stays off.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        pricesIncludeTax = try container.decodeIfPresent(Bool.self, forKey: .pricesIncludeTax) ?? false
        shippingTaxable = try container.decodeIfPresent(Bool.self, forKey: .shippingTaxable) ?? true
        shopCountry = try container.decodeIfPresent(String.self, forKey: .shopCountry) ?? "GB"
        shopRegion = try container.decodeIfPresent(String.self, forKey: .shopRegion)
        receiptDiscount = container.contains(.receiptDiscount)
            ? try container.decodeIfPresent(DiscountOffer.self, forKey: .receiptDiscount) : .receiptDefault
        timezone = try container.decodeIfPresent(String.self, forKey: .timezone) ?? "UTC"
        activityTracking = try container.decodeIfPresent(Bool.self, forKey: .activityTracking) ?? true
        hesitatingAfter = try container.decodeIfPresent(Int.self, forKey: .hesitatingAfter) ?? 120
        hiddenHesitatingAfter = try container.decodeIfPresent(Int.self, forKey: .hiddenHesitatingAfter) ?? 60
        emailCapHours = try container.decodeIfPresent(Int.self, forKey: .emailCapHours) ?? 16
        smsCapHours = try container.decodeIfPresent(Int.self, forKey: .smsCapHours) ?? 24
        pushCapHours = try container.decodeIfPresent(Int.self, forKey: .pushCapHours) ?? 24
        quietHours = container.contains(.quietHours) ? try container.decodeIfPresent(QuietHours.self, forKey: .quietHours) : .standard
        posServesOnline = try container.decodeIfPresent(Bool.self, forKey: .posServesOnline) ?? false
    }

    /// Every member, `receipt_discount` as null when off.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pricesIncludeTax, forKey: .pricesIncludeTax)
        try container.encode(shippingTaxable, forKey: .shippingTaxable)
        try container.encode(shopCountry, forKey: .shopCountry)
        try container.encodeIfPresent(shopRegion, forKey: .shopRegion)
        try container.encode(receiptDiscount, forKey: .receiptDiscount)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(activityTracking, forKey: .activityTracking)
        try container.encode(hesitatingAfter, forKey: .hesitatingAfter)
        try container.encode(hiddenHesitatingAfter, forKey: .hiddenHesitatingAfter)
        try container.encode(emailCapHours, forKey: .emailCapHours)
        try container.encode(smsCapHours, forKey: .smsCapHours)
        try container.encode(pushCapHours, forKey: .pushCapHours)
        try container.encode(quietHours, forKey: .quietHours)
        try container.encode(posServesOnline, forKey: .posServesOnline)
    }

    private enum CodingKeys: String, CodingKey {
        case pricesIncludeTax, shippingTaxable, shopCountry, shopRegion, receiptDiscount, timezone, activityTracking, hesitatingAfter,
             hiddenHesitatingAfter, emailCapHours, smsCapHours, pushCapHours, quietHours, posServesOnline
    }
}

extension Discount {
    /// Checks what a discount or an offer takes off: a percentage from 1 to 100, a fixed amount
    /// with its currency, or nothing for free shipping.
    static func checkValue(kind: Kind, value: Int64, currency: Currency?, into validator: inout Validator) {
        switch kind {
        case .percent: validator.check((1...100).contains(value), "value", "must be a percentage from 1 to 100")
        case .fixed:
            validator.check((1...100_000_000_000).contains(value), "value.amount", "must be from 1 to 100000000000")
            validator.check(currency != nil, "value.currency", "is required for a fixed discount")
        case .freeShipping: break
        }
    }
}

/// A discount the shop issues as single-use codes: what it takes off, and for how long a code lasts.
public struct DiscountOffer: Codable, Sendable, Equatable {
    public var kind: Discount.Kind
    /// Percent for `percent`, minor units of the order's currency for `fixed`, 0 for `free_shipping`.
    public var value: Int64
    public var validDays: Int

    public init(kind: Discount.Kind, value: Int64, validDays: Int) {
        self.kind = kind
        self.value = value
        self.validDays = validDays
    }

    public static let receiptDefault = DiscountOffer(kind: .percent, value: 10, validDays: 30)
}

/// Everything pricing reads, as one consistent snapshot held in memory.
public struct PricingRules: Sendable {
    public var settings = ShopSettings()
    public var taxRates: [TaxRate] = []
    public var shippingMethods: [ShippingMethod] = []
    public var discounts: [Discount] = []

    public init() {}

    /// The rate for `country` and `region`: a region's own rate, else the country's.
    func taxRate(country: String, region: String?) -> TaxRate? {
        if let region, let regional = taxRates.first(where: { $0.country == country && $0.region?.lowercased() == region.lowercased() }) {
            return regional
        }
        return taxRates.first { $0.country == country && $0.region == nil }
    }
}
