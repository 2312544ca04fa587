import ShopfloorDomain
import ShopfloorJSON
import ShopfloorStorage

/// Pricing rules in tables `tax_rates`, `shipping_methods`, `discounts` (its `uses` counted by
/// checkout), `discount_uses` and the `pricing` row of `shop_settings` (JSON).
struct SQLitePricingStore: PricingStore {
    let readers: ReaderPool

    func rules() throws -> PricingRules {
        try readers.read { connection in
            var rules = PricingRules()
            if let row = try connection.query("SELECT key, value FROM shop_settings WHERE key = 'pricing'").first {
                let value = try StoredRow(row, table: "shop_settings", keyColumn: "key").text("value")
                rules.settings = try JSONCoding.decode(ShopSettings.self, from: Array(value.utf8))
            }
            rules.taxRates = try connection.query("SELECT * FROM tax_rates ORDER BY created_at, id").map(Self.taxRate)
            rules.shippingMethods = try connection.query(
                "SELECT m.*, l.code AS collect_code FROM shipping_methods m LEFT JOIN locations l ON l.id = m.collect_location_id ORDER BY m.created_at, m.id"
            ).map(Self.shippingMethod)
            rules.discounts = try connection.query("SELECT * FROM discounts WHERE issued_for IS NULL ORDER BY created_at, id").map(Self.discount)
            return rules
        }
    }

    func insert(_ rate: TaxRate, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO tax_rates (id, country, region, rate_bp, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(rate.id.rawValue), .text(rate.country), .optional(rate.region), .integer(Int64(rate.rateBp)), .optional(rate.name),
             .text(rate.createdAt)])
    }

    func insert(_ method: ShippingMethod, collectLocation: LocationID?, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO shipping_methods (id, name, price_amount, currency, countries, free_over_amount, collect_location_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(method.id.rawValue), .text(method.name), .integer(method.price.amount), .text(method.price.currency.code),
             .text(String(decoding: try JSONCoding.encode(method.countries), as: UTF8.self)), method.freeOver.map { .integer($0.amount) } ?? .null,
             .optional(collectLocation?.rawValue), .text(method.createdAt)])
    }

    func insert(_ discount: Discount, in transaction: any WriteTransaction) throws {
        try insert(discount, issuedFor: nil, in: transaction)
    }

    func insertIssued(_ discount: Discount, for source: String, in transaction: any WriteTransaction) throws {
        try insert(discount, issuedFor: source, in: transaction)
    }

    func issuedDiscount(code: String) throws -> Discount? {
        try readers.read { connection in
            try connection.query("SELECT * FROM discounts WHERE code = ? AND issued_for IS NOT NULL", [.text(code)]).first.map(Self.discount)
        }
    }

    private func insert(_ discount: Discount, issuedFor source: String?, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO discounts (id, code, kind, value, currency, customer_id, min_subtotal_amount, min_subtotal_currency,
                max_uses, max_uses_per_customer, starts_at, ends_at, created_at, issued_for, cart_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(discount.id.rawValue), .optional(discount.code), .text(discount.kind.rawValue), .integer(discount.value),
             .optional(discount.currency?.code), .optional(discount.customerID), discount.minSubtotal.map { .integer($0.amount) } ?? .null,
             .optional(discount.minSubtotal?.currency.code), discount.maxUses.map { .integer(Int64($0)) } ?? .null,
             discount.maxUsesPerCustomer.map { .integer(Int64($0)) } ?? .null, .optional(discount.startsAt), .optional(discount.endsAt),
             .text(discount.createdAt), .optional(source), .optional(discount.cartID)])
    }

    func disable(_ discount: DiscountID, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE discounts SET disabled = 1 WHERE id = ?", [.text(discount.rawValue)])
    }

    func save(_ settings: ShopSettings, in transaction: any WriteTransaction) throws {
        let encoded = String(decoding: try JSONCoding.encode(settings), as: UTF8.self)
        try transaction.connection.run(
            "INSERT INTO shop_settings (key, value) VALUES ('pricing', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [.text(encoded)])
    }

    func uses(of discount: DiscountID, byCustomer key: String) throws -> Int {
        try readers.read { connection in
            let row = try connection.query(
                "SELECT COUNT(*) AS n FROM discount_uses WHERE discount_id = ? AND customer_key = ?", [.text(discount.rawValue), .text(key)]).first
            return try StoredRow(row ?? [:], table: "discount_uses", keyColumn: "n").int("n")
        }
    }

    func recordUse(of discount: DiscountID, order: OrderID, customer key: String?, in transaction: any WriteTransaction) throws -> Bool {
        let connection = transaction.connection
        let counted = try connection.run("UPDATE discounts SET uses = uses + 1 WHERE id = ? AND (max_uses IS NULL OR uses < max_uses)",
                                         [.text(discount.rawValue)])
        guard counted == 1 else { return false }
        try connection.run("INSERT INTO discount_uses (discount_id, order_id, customer_key) VALUES (?, ?, ?)",
                           [.text(discount.rawValue), .text(order.rawValue), .optional(key)])
        return true
    }

    private static func taxRate(_ values: SQLiteConnection.Row) throws -> TaxRate {
        let row = StoredRow(values, table: "tax_rates", keyColumn: "id")
        return TaxRate(
            id: try row.id("id", as: TaxRateID.self), country: try row.text("country"), region: try row.optionalText("region"),
            rateBp: try row.int("rate_bp"), name: try row.optionalText("name"), createdAt: try row.text("created_at"))
    }

    private static func shippingMethod(_ values: SQLiteConnection.Row) throws -> ShippingMethod {
        let row = StoredRow(values, table: "shipping_methods", keyColumn: "id")
        let currency = try row.currency("currency")
        return ShippingMethod(
            id: try row.id("id", as: ShippingMethodID.self), name: try row.text("name"),
            price: Money(amount: try row.int64("price_amount"), currency: currency),
            countries: try row.json("countries", as: [String].self),
            freeOver: try row.optionalInt("free_over_amount").map { Money(amount: Int64($0), currency: currency) },
            collectInStore: try row.optionalText("collect_code"), createdAt: try row.text("created_at"))
    }

    private static func discount(_ values: SQLiteConnection.Row) throws -> Discount {
        let row = StoredRow(values, table: "discounts", keyColumn: "id")
        var minSubtotal: Money?
        if let amount = try row.optionalInt("min_subtotal_amount") {
            minSubtotal = Money(amount: Int64(amount), currency: try row.currency("min_subtotal_currency"))
        }
        return Discount(
            id: try row.id("id", as: DiscountID.self), code: try row.optionalText("code"), kind: try row.value("kind", as: Discount.Kind.self),
            value: try row.int64("value"), currency: try row.optionalText("currency").map { _ in try row.currency("currency") },
            customerID: try row.optionalText("customer_id"), minSubtotal: minSubtotal, maxUses: try row.optionalInt("max_uses"),
            maxUsesPerCustomer: try row.optionalInt("max_uses_per_customer"), startsAt: try row.optionalText("starts_at"),
            endsAt: try row.optionalText("ends_at"), disabled: try row.bool("disabled"), uses: try row.int("uses"),
            createdAt: try row.text("created_at"), cartID: try row.optionalText("cart_id"))
    }
}
