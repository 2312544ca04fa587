import ShopfloorDomain

/// `PATCH /v1/carts/{id}` body: checkout details; absent fields stay as they are.
struct CheckoutDTO: Decodable {
    var email: String?
    var phone: String?
    var customerID: String?
    var shippingAddress: Address?
    var billingAddress: Address?
    var shippingMethod: String?
    var discountCodes: [String]?
    var checkoutStep: String?

    var details: CheckoutService.Details {
        CheckoutService.Details(email: email, phone: phone, customerID: customerID, shippingAddress: shippingAddress, billingAddress: billingAddress,
                                shippingMethod: shippingMethod, discountCodes: discountCodes, checkoutStep: checkoutStep)
    }
}

/// `POST /v1/carts/{id}/complete` body.
struct CompleteCartDTO: Decodable {
    struct PaymentDTO: Decodable {
        var method: String
        var cardNumber: String?
        var reference: String?
    }

    var payment: PaymentDTO

    var request: PaymentRequest { PaymentRequest(method: payment.method, cardNumber: payment.cardNumber, reference: payment.reference) }
}

/// `POST /v1/discounts` body; `value` is a percentage for `percent` and Money for `fixed`.
struct NewDiscountDTO: Decodable {
    enum Value: Decodable {
        case number(Int64)
        case money(Money)

        init(from decoder: any Decoder) throws {
            if let money = try? Money(from: decoder) { self = .money(money) } else { self = .number(try Int64(from: decoder)) }
        }
    }

    var code: String?
    var kind: Discount.Kind
    var value: Value?
    var customerID: String?
    var minSubtotal: Money?
    var maxUses: Int?
    var maxUsesPerCustomer: Int?
    var startsAt: String?
    var endsAt: String?

    func discount() throws -> PricingService.NewDiscount {
        var amount: Int64 = 0
        var currency: Currency?
        switch (kind, value) {
        case (.percent, .number(let percent)?): amount = percent
        case (.fixed, .money(let money)?):
            amount = money.amount
            currency = money.currency
        case (.freeShipping, nil): break
        case (.percent, _): throw ValidationError(field: "value", detail: "must be a whole percentage for a percent discount")
        case (.fixed, _): throw ValidationError(field: "value", detail: "must be Money ({\"amount\",\"currency\"}) for a fixed discount")
        case (.freeShipping, _): throw ValidationError(field: "value", detail: "is not used by free_shipping discounts")
        }
        return PricingService.NewDiscount(
            code: code, kind: kind, value: amount, currency: currency, customerID: customerID, minSubtotal: minSubtotal, maxUses: maxUses,
            maxUsesPerCustomer: maxUsesPerCustomer, startsAt: startsAt, endsAt: endsAt)
    }
}

/// `POST /v1/tax-rates` body.
struct NewTaxRateDTO: Decodable {
    var country: String
    var region: String?
    var rateBp: Int
    var name: String?
}

/// `POST /v1/shipping-methods` body.
struct NewShippingMethodDTO: Decodable {
    var name: String
    var price: Money
    var countries: [String]?
    var freeOver: Money?
    /// A location code: the order is collected there.
    var collectInStore: String?
}

/// `PATCH /v1/settings` body.
struct SettingsDTO: Decodable {
    var pricesIncludeTax: Bool?
    var shippingTaxable: Bool?
    var shopCountry: String?
    var shopRegion: String?
    /// `null` turns receipt codes off; absent leaves the setting as it is.
    var receiptDiscount: DiscountOffer?
    var timezone: String?
    var activityTracking: Bool?
    var hesitatingAfter: Int?
    var hiddenHesitatingAfter: Int?
    var emailCapHours: Int?
    var smsCapHours: Int?
    var pushCapHours: Int?
    /// `null` turns quiet hours off; absent leaves them as they are.
    var quietHours: QuietHours?
    var posServesOnline: Bool?
}

/// `POST /v1/pos/handover` body: the PIN from the customer's phone, and optionally the cart it is for.
struct HandoverDTO: Decodable {
    var pin: String
    var cartID: String?
}

/// `POST /v1/payments/webhook` answer.
struct WebhookReceipt: Encodable {
    var received: Bool
    var orderID: String
    var status: OrderStatus
}

/// `POST /v1/orders/{id}/transitions` body.
struct TransitionDTO: Decodable {
    var to: OrderStatus
    var note: String?
    var trackingNumber: String?
}
