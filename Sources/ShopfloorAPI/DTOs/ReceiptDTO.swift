import ShopfloorDomain

/// `GET /v1/orders/{id}/receipt`: what a till prints or an email shows, as JSON or as an HTML page.
struct ReceiptDTO: Encodable {
    struct Line: Encodable {
        var title: String
        var sku: String
        var quantity: Int
        var unitPrice: Money
        var lineTotal: Money
    }

    struct PaymentLine: Encodable {
        var method: String
        var status: Payment.Status
        var amount: Money
    }

    var orderID: String
    var number: String
    var placedAt: String
    var status: OrderStatus
    var location: String?
    var lines: [Line]
    var totals: CartTotals
    var pricesIncludeTax: Bool
    var payments: [PaymentLine]
    var shippingMethod: String?

    init(_ order: Order, pricesIncludeTax: Bool) {
        orderID = order.id.rawValue
        number = order.number
        placedAt = order.createdAt
        status = order.status
        location = order.location
        lines = order.lines.map { Line(title: $0.title, sku: $0.sku, quantity: $0.quantity, unitPrice: $0.unitPrice, lineTotal: $0.lineTotal) }
        totals = order.totals
        self.pricesIncludeTax = pricesIncludeTax
        payments = order.payments.map { PaymentLine(method: $0.method, status: $0.status, amount: $0.amount) }
        shippingMethod = order.shippingMethod?.name
    }

    /// A self-contained printable page (no scripts, no external resources), every value escaped.
    var html: String {
        var rows = ""
        for line in lines {
            rows += "<tr><td>\(HTMLText.escape(line.title))<br><small>\(HTMLText.escape(line.sku))</small></td><td class=n>\(line.quantity)</td>"
                + "<td class=n>\(Self.format(line.unitPrice))</td><td class=n>\(Self.format(line.lineTotal))</td></tr>\n"
        }
        var sums = "<tr><td colspan=3>Subtotal</td><td class=n>\(Self.format(totals.subtotal))</td></tr>\n"
        if totals.discount.amount > 0 { sums += "<tr><td colspan=3>Discount</td><td class=n>−\(Self.format(totals.discount))</td></tr>\n" }
        if let shippingMethod {
            sums += "<tr><td colspan=3>Shipping (\(HTMLText.escape(shippingMethod)))</td><td class=n>\(Self.format(totals.shipping))</td></tr>\n"
        }
        sums += "<tr><td colspan=3>\(pricesIncludeTax ? "Tax included" : "Tax")</td><td class=n>\(Self.format(totals.tax))</td></tr>\n"
        sums += "<tr class=total><td colspan=3>Total</td><td class=n>\(Self.format(totals.total))</td></tr>\n"
        let paid = payments.map { "\(HTMLText.escape($0.method)) \(Self.format($0.amount)) (\($0.status.rawValue))" }.joined(separator: "<br>")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Receipt \(HTMLText.escape(number))</title>
            <style>body{font:14px system-ui,sans-serif;max-width:32em;margin:1em auto}table{width:100%;border-collapse:collapse}
            td{padding:.2em 0;vertical-align:top}.n{text-align:right;white-space:nowrap}.total td{font-weight:bold;border-top:1px solid}</style>
            </head><body>
            <h1>Receipt \(HTMLText.escape(number))</h1>
            <p>\(HTMLText.escape(placedAt))\(location.map { " · \(HTMLText.escape($0))" } ?? "") · \(status.rawValue)</p>
            <table><tr><th align=left>Item</th><th class=n>Qty</th><th class=n>Price</th><th class=n>Total</th></tr>
            \(rows)\(sums)</table>
            <p>Paid: \(paid.isEmpty ? "—" : paid)</p>
            </body></html>

            """
    }

    /// `12.99 GBP` (``Money/displayText``).
    static func format(_ money: Money) -> String {
        money.displayText
    }
}
