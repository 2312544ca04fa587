import ShopfloorDomain
import ShopfloorStorage

/// A segment filter as one SQL boolean expression over `customers c`, with its bindings. Each
/// condition is an indexed lookup: `bought` and `bought_at_location` read `customer_purchases` by
/// SKU, product, category or location; `tag` reads `customer_tags`; `consent` the consent index; stats
/// are columns of the row. Leaves that may be NULL (a customer who never ordered) are false, so
/// `not` of them is true.
enum SegmentSQL {
    static func expression(_ filter: SegmentFilter) -> (sql: String, bindings: [SQLiteValue]) {
        var bindings: [SQLiteValue] = []
        let sql = build(filter, &bindings)
        return (sql, bindings)
    }

    private static func build(_ filter: SegmentFilter, _ bindings: inout [SQLiteValue]) -> String {
        switch filter {
        case .all(let parts):
            return "(" + parts.map { build($0, &bindings) }.joined(separator: " AND ") + ")"
        case .any(let parts):
            return "(" + parts.map { build($0, &bindings) }.joined(separator: " OR ") + ")"
        case .not(let part):
            return "(NOT " + build(part, &bindings) + ")"
        case .bought(let target, let since, let minTimes):
            let (column, value) = column(target)
            bindings.append(.text(value))
            var sql = "c.seq IN (SELECT customer_seq FROM customer_purchases WHERE \(column) = ?"
            if let since {
                sql += " AND at >= ?"
                bindings.append(.text(since))
            }
            if minTimes > 1 {
                sql += " GROUP BY customer_seq HAVING count(DISTINCT order_seq) >= ?"
                bindings.append(.integer(Int64(minTimes)))
            }
            return sql + ")"
        case .viewed(let target, let since):
            let (column, value) = column(target)
            bindings.append(.text(value))
            var sql = "c.seq IN (SELECT customer_seq FROM customer_views WHERE \(column) = ?"
            if let since {
                sql += " AND at >= ?"
                bindings.append(.text(since))
            }
            return sql + ")"
        case .totalSpent(let gte, let lte):
            return range("c.total_spent", gte.map { .integer($0) }, lte.map { .integer($0) }, &bindings)
        case .ordersCount(let gte, let lte):
            return range("c.orders_count", gte.map { .integer(Int64($0)) }, lte.map { .integer(Int64($0)) }, &bindings)
        case .lastOrderAt(let before, let after):
            var parts: [String] = []
            if let before {
                parts.append("c.last_order_at < ?")
                bindings.append(.text(before))
            }
            if let after {
                parts.append("c.last_order_at >= ?")
                bindings.append(.text(after))
            }
            return "coalesce(" + parts.joined(separator: " AND ") + ", 0)"
        case .tag(let tag):
            bindings.append(.text(tag))
            return "c.seq IN (SELECT customer_seq FROM customer_tags WHERE tag = ?)"
        case .consent(let channel):
            bindings.append(.text(channel.rawValue))
            return "c.seq IN (SELECT customer_seq FROM customer_consent WHERE channel = ? AND state = 'subscribed')"
        case .boughtAtLocation(let code):
            bindings.append(.text(code))
            return "c.seq IN (SELECT customer_seq FROM customer_purchases WHERE location = ?)"
        case .abandonedCart(let since, let idleSince):
            bindings += [.text(since), .text(idleSince ?? since)]
            return """
                c.id IN (SELECT k.customer_id FROM carts k WHERE k.customer_id IS NOT NULL AND k.updated_at >= ?
                    AND (k.status = 'expired' OR (k.status = 'active' AND k.updated_at < ?))
                    AND EXISTS (SELECT 1 FROM cart_lines l WHERE l.cart_id = k.id))
                """
        case .stage(let stage):
            // The stage of the customer's visitors as last seen (kept after a visit ends).
            bindings.append(.text(stage))
            return "c.seq IN (SELECT customer_seq FROM visitors WHERE stage = ? AND customer_seq IS NOT NULL)"
        }
    }

    private static func column(_ target: SegmentFilter.Target) -> (String, String) {
        switch target {
        case .sku(let sku): ("sku", sku)
        case .product(let id): ("product_id", id)
        case .category(let category): ("category", category)
        }
    }

    private static func range(_ column: String, _ low: SQLiteValue?, _ high: SQLiteValue?, _ bindings: inout [SQLiteValue]) -> String {
        var parts: [String] = []
        if let low {
            parts.append("\(column) >= ?")
            bindings.append(low)
        }
        if let high {
            parts.append("\(column) <= ?")
            bindings.append(high)
        }
        return "(" + parts.joined(separator: " AND ") + ")"
    }
}
