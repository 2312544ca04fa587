/// A way to take payment for an order. Completion asks the provider named by `payment.method`;
/// a provider either succeeds, leaves the payment pending, or throws ``CheckoutError/paymentDeclined(reason:)``.
public protocol PaymentProvider: Sendable {
    var method: String { get }
    func charge(_ request: PaymentRequest, amount: Money, payer: Role?) async throws -> PaymentOutcome
}

/// The `payment` member of a completion request.
public struct PaymentRequest: Sendable, Equatable {
    public var method: String
    public var cardNumber: String?
    public var reference: String?

    public init(method: String, cardNumber: String? = nil, reference: String? = nil) {
        self.method = method
        self.cardNumber = cardNumber
        self.reference = reference
    }
}

public struct PaymentOutcome: Sendable, Equatable {
    public var status: Payment.Status
    public var reference: String?
}

/// Cash, a card terminal or a bank transfer that a till or admin records: it needs their key.
public struct ManualPayments: PaymentProvider {
    public let method = "manual"
    public init() {}

    public func charge(_ request: PaymentRequest, amount: Money, payer: Role?) async throws -> PaymentOutcome {
        guard payer == .admin || payer == .pos else { throw CheckoutError.paymentNotAllowed("manual payments are recorded with a pos or admin key") }
        if let reference = request.reference, reference.unicodeScalars.count > 200 {
            throw ValidationError(field: "payment.reference", detail: "must be at most 200 characters")
        }
        return PaymentOutcome(status: .succeeded, reference: request.reference)
    }
}

/// Deterministic test cards (API.md): `4242424242424242` succeeds, `4000000000000002` is declined,
/// `4000000000009995` fails with insufficient funds; any other number is refused as invalid.
public struct TestCardPayments: PaymentProvider {
    public let method = "test_card"
    public init() {}

    public func charge(_ request: PaymentRequest, amount: Money, payer: Role?) async throws -> PaymentOutcome {
        switch request.cardNumber?.filter({ $0 != " " }) {
        case "4242424242424242": return PaymentOutcome(status: .succeeded, reference: "card ending 4242")
        case "4000000000000002": throw CheckoutError.paymentDeclined(reason: "card_declined")
        case "4000000000009995": throw CheckoutError.paymentDeclined(reason: "insufficient_funds")
        default: throw ValidationError(field: "payment.card_number", detail: "must be one of the documented test card numbers")
        }
    }
}

/// An order to be paid later, outside the shop's providers: a confirmed replenishment proposal, which
/// an operator calls the customer about. Recorded as `manual` and `pending`, so the order stays
/// `placed` until someone records the payment.
struct PayLater: PaymentProvider {
    let method = "manual"

    func charge(_ request: PaymentRequest, amount: Money, payer: Role?) async throws -> PaymentOutcome {
        PaymentOutcome(status: .pending, reference: request.reference)
    }
}
