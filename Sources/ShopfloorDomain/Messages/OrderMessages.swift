/// Tells customers about their orders (API.md, Messages): `order_confirmation` when an order is
/// placed, with its tracking link, and `order_status` on every later change of status, dispatched
/// with its tracking number. Both are transactional (no marketing consent needed) and are queued in
/// the order's own transaction, so a rolled-back change sends nothing.
public struct OrderMessages: Sendable {
    let messages: MessageService
    let shopName: String
    /// Where the shop's API is reached from outside (`--public-url`), for tracking links.
    let publicURL: String

    public init(messages: MessageService, shopName: String, publicURL: String) {
        self.messages = messages
        self.shopName = shopName
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// The confirmation of an order just placed online (a till sale gets its receipt instead).
    func placed(_ order: Order, in transaction: any WriteTransaction) throws {
        guard let email = order.email, order.channel != .pos else { return }
        try messages.queue(
            .init(channel: .email, recipient: email, template: "order_confirmation", data: data(order), customerID: order.customerID,
                  orderID: order.id, transactional: true),
            in: transaction)
    }

    /// The news of a status change made after the order was placed.
    func statusChanged(_ order: Order, in transaction: any WriteTransaction) throws {
        guard let email = order.email else { return }
        var data = data(order)
        data["status"] = order.status.rawValue
        data["status_text"] = Self.words(order.status)
        try messages.queue(
            .init(channel: .email, recipient: email, template: "order_status", data: data, customerID: order.customerID, orderID: order.id,
                  transactional: true),
            in: transaction)
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
