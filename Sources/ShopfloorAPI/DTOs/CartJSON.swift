public import ShopfloorDomain
public import ShopfloorJSON

/// The cart body written by hand: every cart write answers with it. Members and order are those of
/// the synthesised `Encodable` conformance (a test compares the two on many carts).
extension Cart: DirectJSONEncodable {
    public func writeJSON(into object: inout JSONObjectWriter) throws {
        object.string("id", id.rawValue)
        object.string("channel", channel.rawValue)
        object.string("status", status.rawValue)
        object.string("location", ifPresent: location)
        object.string("customer_id", ifPresent: customerID)
        object.bool("customer_verified", customerVerified)
        object.string("email", ifPresent: email)
        object.string("phone", ifPresent: phone)
        object.string("currency", currency.code)
        object.string("checkout_step", checkoutStep)
        try object.value("shipping_address", ifPresent: shippingAddress)
        try object.value("billing_address", ifPresent: billingAddress)
        object.string("shipping_method", ifPresent: shippingMethod)
        object.array("discount_codes", discountCodes) { code, array in array.string(code) }
        try object.array("lines", lines) { line, array in
            try array.object { fields in
                fields.string("id", line.id.rawValue)
                fields.string("sku", line.sku)
                fields.string("title", line.title)
                fields.integer("quantity", Int64(line.quantity))
                fields.money("unit_price", line.unitPrice)
                fields.money("line_total", line.lineTotal)
                try fields.value("customisation", ifPresent: line.customisation)
            }
        }
        object.object("totals") { fields in
            fields.money("subtotal", totals.subtotal)
            fields.money("discount", totals.discount)
            fields.money("shipping", totals.shipping)
            fields.money("tax", totals.tax)
            fields.money("total", totals.total)
        }
        object.string("expires_at", expiresAt)
        object.string("created_at", createdAt)
        object.string("updated_at", updatedAt)
    }
}

extension JSONObjectWriter {
    mutating func money(_ name: String, _ money: Money) {
        object(name) { fields in
            fields.integer("amount", money.amount)
            fields.string("currency", money.currency.code)
        }
    }
}
