/// Tells customers about their orders (API.md, Messages): `order_confirmation` when an order is
/// placed online, with its tracking link; `order_status` on every later change of status, dispatched
/// with its tracking number; and `receipt` when a till sale is handed over (at once, or after the
/// customer paid on their phone), with a single-use code for online use when the shop's
/// `receipt_discount` setting gives one. All are transactional (no marketing consent needed) and are
/// queued in the order's own transaction, with the receipt's code, so a rolled-back change sends and
/// issues nothing.
///
/// Browsers that subscribed to push for the order (or the cart it was placed from) get the
/// confirmation and every status change as a notification, and the dispatch news also goes by SMS
/// to a shipping address's phone number in international form.
public struct OrderMessages: Sendable {
    let messages: MessageService
    let pricing: PricingService
    let push: PushService
    let shopName: String
    /// Where the shop's API is reached from outside (`--public-url`), for tracking links.
    let publicURL: String

    public init(messages: MessageService, pricing: PricingService, push: PushService, shopName: String, publicURL: String) {
        self.messages = messages
        self.pricing = pricing
        self.push = push
        self.shopName = shopName
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// The confirmation of an order just placed online, or the receipt of a till sale handed over
    /// as it was paid (one paid on the customer's phone gets it at the handover). The order is also
    /// credited to the flow or campaign message its customer last engaged with, if any.
    func placed(_ order: Order, in transaction: any WriteTransaction) throws {
        try messages.credit(order, in: transaction)
        if order.channel == .pos {
            if order.status == .delivered, let email = order.email { try receipt(order, to: email, in: transaction) }
            return
        }
        let data = data(order)
        try pushes(order, template: "order_confirmation", data: data, in: transaction)
        guard let email = order.email else { return }
        try messages.queue(
            .init(channel: .email, recipient: email, template: "order_confirmation", data: data, customerID: order.customerID,
                  orderID: order.id, transactional: true),
            in: transaction)
    }

    /// The news of a status change made after the order was placed; a till sale's handover is its receipt.
    func statusChanged(_ order: Order, in transaction: any WriteTransaction) throws {
        if order.channel == .pos, order.status == .delivered {
            if let email = order.email { try receipt(order, to: email, in: transaction) }
            return
        }
        var data = data(order)
        data["status"] = order.status.rawValue
        data["status_text"] = Self.words(order.status)
        try pushes(order, template: "order_status", data: data, in: transaction)
        if order.status == .dispatched, let phone = order.shippingAddress?.phone.flatMap(ContactAddress.phone) {
            try messages.queue(
                .init(channel: .sms, recipient: phone, template: "order_status", data: data, customerID: order.customerID, orderID: order.id,
                      transactional: true),
                in: transaction)
        }
        guard let email = order.email else { return }
        try messages.queue(
            .init(channel: .email, recipient: email, template: "order_status", data: data, customerID: order.customerID, orderID: order.id,
                  transactional: true),
            in: transaction)
    }

    /// One push message for each subscription following the order, leading to its tracking page.
    private func pushes(_ order: Order, template: String, data: [String: Any], in transaction: any WriteTransaction) throws {
        for subscription in try push.subscriptions(following: order, in: transaction) {
            try messages.queue(
                .init(channel: .push, recipient: subscription.endpoint, template: template, data: data, link: data["tracking_url"] as? String,
                      customerID: order.customerID, orderID: order.id, transactional: true),
                in: transaction)
        }
    }

    /// The receipt, with a code issued in the same transaction when the shop gives one.
    private func receipt(_ order: Order, to email: String, in transaction: any WriteTransaction) throws {
        var data = data(order)
        if let offer = pricing.rules.settings.receiptDiscount {
            let discount = try pricing.issue(offer, currency: order.currency, for: "order:\(order.id)", in: transaction)
            data["discount_code"] = discount.code
            data["discount_text"] = Self.words(discount)
            data["discount_expires_at"] = discount.endsAt.map { String($0.prefix(10)) }
        }
        try messages.queue(
            .init(channel: .email, recipient: email, template: "receipt", data: data, customerID: order.customerID, orderID: order.id,
                  transactional: true),
            in: transaction)
    }

    /// What a discount gives, as "… online for <words>" ends.
    static func words(_ discount: Discount) -> String {
        switch discount.kind {
        case .percent: "\(discount.value) % off"
        case .fixed: discount.currency.map { "\(Money(amount: discount.value, currency: $0).displayText) off" } ?? "\(discount.value) off"
        case .freeShipping: "free shipping"
        }
    }

    /// What the order templates can show.
    private func data(_ order: Order) -> [String: Any] {
        var orderData: [String: Any] = [
            "number": order.number,
            "status": order.status.rawValue,
            "total": order.totals.total.displayText,
            "subtotal": order.totals.subtotal.displayText,
            "shipping": order.totals.shipping.displayText,
            "tax": order.totals.tax.displayText,
            "discount": order.totals.discount.displayText,
            "created_at": order.createdAt,
            "lines": order.lines.map { line -> [String: Any] in
                ["title": line.title, "sku": line.sku, "quantity": line.quantity, "unit_price": line.unitPrice.displayText,
                 "line_total": line.lineTotal.displayText]
            },
        ]
        if let number = order.trackingNumber { orderData["tracking_number"] = number }
        var customer: [String: Any] = [:]
        if let address = order.shippingAddress ?? order.billingAddress, !address.firstName.isEmpty { customer["first_name"] = address.firstName }
        return [
            "order": orderData, "customer": customer, "shop": ["name": shopName],
            "tracking_url": "\(publicURL)/v1/track/\(order.trackingToken)",
        ]
    }

    /// A status as the sentence "your order … is <words>" ends.
    static func words(_ status: OrderStatus) -> String {
        switch status {
        case .placed: "placed"
        case .paid: "paid"
        case .confirmed: "confirmed"
        case .packed: "packed"
        case .dispatched: "on its way"
        case .delivered: "delivered"
        case .cancelled: "cancelled"
        case .refunded: "refunded"
        }
    }
}
