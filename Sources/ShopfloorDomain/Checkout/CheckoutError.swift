/// Checkout, pricing and order failures.
public enum CheckoutError: Error, Equatable {
    case notFound(String)
    /// Something with the same identity exists (a tax rate for that place, a discount code).
    case duplicate(String)
    /// A discount code that does not apply, and why.
    case discountRejected(code: String, reason: PricingService.Rejection)
    /// The shipping method does not serve the cart's address or currency.
    case shippingUnavailable(String)
    /// The cart is not ready to complete: what is missing, by field.
    case incomplete([FieldError])
    /// An expired cart whose units are gone: what each short SKU has now.
    case stockGone([Shortage])
    /// The card was declined (402), with the processor's reason.
    case paymentDeclined(reason: String)
    /// The payment method needs a till or admin key.
    case paymentNotAllowed(String)
    /// The cart was completed already (by another request).
    case alreadyCompleted(orderID: String)
    /// What the cart holds of a SKU differs from its line: a guard that should never trip, since
    /// selling then would take the wrong number of units.
    case heldMismatch(sku: String)
    /// The order cannot move from its status to the one asked for.
    case invalidTransition(from: OrderStatus, to: OrderStatus)

    /// A SKU short of what a cart needs.
    public struct Shortage: Sendable, Equatable, Encodable {
        public var sku: String
        public var requested: Int
        public var available: Int
    }
}
