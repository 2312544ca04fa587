import Foundation
import ShopfloorDomain
import ShopfloorStorage

/// Replenishment in `products.replenish_days`, `replenishment_items`, `proposals` and
/// `replenishment_runs` (migration 21). The weekly run reads a batch of customers' purchases of
/// products with an interval through `customer_purchases_customer`, one range of customer seqs at a time.
struct SQLiteReplenishmentStore: ReplenishmentStore {
    let readers: ReaderPool

    private static let proposalColumns = "id, customer_id, run_key, items, status, cart_id, order_id, created_at, decided_at, expires_at"

    func setInterval(_ days: Int?, of product: ProductID, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("UPDATE products SET replenish_days = ? WHERE id = ?", [.optional(days), .text(product.rawValue)]) > 0
    }

    func replenishable() throws -> [String: ReplenishableSKU] {
        try readers.read { connection in
            var skus: [String: ReplenishableSKU] = [:]
            for values in try connection.query(
                """
                SELECT v.sku, p.title AS product_title, v.title AS variant_title, v.price_amount, v.price_currency, p.replenish_days, p.status
                FROM products p JOIN variants v ON v.product_seq = p.seq WHERE p.replenish_days IS NOT NULL
                """) {
                let row = StoredRow(values, table: "variants", keyColumn: "sku")
                skus[try row.text("sku")] = ReplenishableSKU(
                    title: CartVariant.title(product: try row.text("product_title"), variant: try row.optionalText("variant_title")),
                    price: Money(amount: try row.int64("price_amount"), currency: try row.currency("price_currency")),
                    intervalDays: try row.int("replenish_days"), active: try row.text("status") == "active")
            }
            return skus
        }
    }

    /// Reads none joining per purchase: the customers of the batch, their purchases from the covering
    /// index (customer, SKU, time, quantity), what they put off, and the recent runs' open proposals;
    /// `skus` filters in memory.
    func purchases(afterCustomer afterSeq: Int64, limit: Int, of skus: Set<String>, runsSince: String, now: String) throws
        -> (customers: [ReplenishmentCustomer], read: Int, last: Int64?) {
        try readers.read { connection in
            let batch = try connection.query("SELECT seq, id, erased_at FROM customers WHERE seq > ? ORDER BY seq LIMIT ?",
                                             [.integer(afterSeq), .integer(Int64(limit))])
            guard let first = batch.first, let lastRow = batch.last else { return ([], 0, nil) }
            let firstSeq = try StoredRow(first, table: "customers", keyColumn: "seq").int64("seq")
            let lastSeq = try StoredRow(lastRow, table: "customers", keyColumn: "seq").int64("seq")
            var ids: [Int64: CustomerID] = [:]
            for values in batch {
                let row = StoredRow(values, table: "customers", keyColumn: "seq")
                if try row.optionalText("erased_at") == nil { ids[try row.int64("seq")] = CustomerID(rawValue: try row.text("id")) }
            }
            var putOff: [Int64: [String: String]] = [:]
            for values in try connection.query(
                "SELECT customer_seq, sku, snoozed_until FROM replenishment_items WHERE customer_seq BETWEEN ? AND ? AND snoozed_until IS NOT NULL",
                [.integer(firstSeq), .integer(lastSeq)]) {
                let row = StoredRow(values, table: "replenishment_items", keyColumn: "sku")
                putOff[try row.int64("customer_seq"), default: [:]][try row.text("sku")] = try row.text("snoozed_until")
            }
            // A range of each recent run's (run, customer seq) index: the runs table has a row a week.
            var waiting: Set<Int64> = []
            for run in try connection.query("SELECT key FROM replenishment_runs WHERE started_at > ?", [.text(runsSince)]) {
                let key = try StoredRow(run, table: "replenishment_runs", keyColumn: "key").text("key")
                for values in try connection.query(
                    """
                    SELECT customer_seq FROM proposals
                    WHERE run_key = ? AND customer_seq BETWEEN ? AND ? AND status = 'open' AND expires_at > ?
                    """,
                    [.text(key), .integer(firstSeq), .integer(lastSeq), .text(now)]) {
                    waiting.insert(try StoredRow(values, table: "proposals", keyColumn: "customer_seq").int64("customer_seq"))
                }
            }
            var customers: [ReplenishmentCustomer] = []
            for values in try connection.query(
                """
                SELECT customer_seq, sku, at, quantity FROM customer_purchases INDEXED BY customer_purchases_customer
                WHERE customer_seq BETWEEN ? AND ? ORDER BY customer_seq, sku, at
                """,
                [.integer(firstSeq), .integer(lastSeq)]) {
                let row = StoredRow(values, table: "customer_purchases", keyColumn: "sku")
                let sku = try row.text("sku")
                guard skus.contains(sku) else { continue }
                let seq = try row.int64("customer_seq")
                guard let id = ids[seq] else { continue }
                guard let at = Timestamp.date(try row.text("at")) else { throw StoreError.badRow(table: "customer_purchases", key: sku, column: "at") }
                let purchase = ReplenishmentPlan.Purchase(at: at, quantity: try row.int("quantity"))
                if customers.last?.seq != seq {
                    customers.append(ReplenishmentCustomer(seq: seq, id: id, items: [], hasOpenProposal: waiting.contains(seq)))
                }
                let index = customers.count - 1
                if customers[index].items.last?.sku == sku {
                    customers[index].items[customers[index].items.count - 1].purchases.append(purchase)
                } else {
                    customers[index].items.append(ReplenishmentSKU(sku: sku, purchases: [purchase], snoozedUntil: putOff[seq]?[sku]))
                }
            }
            return (customers, batch.count, lastSeq)
        }
    }

    /// Keyed for uniqueness by (run, customer seq) and ids made in time order, so a run's inserts
    /// append to both indexes instead of dirtying a random page of each per proposal.
    func insert(_ proposal: Proposal, customerSeq: Int64, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run(
            """
            INSERT INTO proposals (customer_seq, \(Self.proposalColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run_key, customer_seq) DO NOTHING
            """,
            [.integer(customerSeq), .text(proposal.id.rawValue), .text(proposal.customerID.rawValue), .text(proposal.runKey), try .json(encoding: proposal.items),
             .text(proposal.status.rawValue), .optional(proposal.cartID?.rawValue), .optional(proposal.orderID?.rawValue), .text(proposal.createdAt), .optional(proposal.decidedAt),
             .text(proposal.expiresAt)]) > 0
    }

    func update(_ proposal: Proposal, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE proposals SET status = ?, cart_id = ?, order_id = ?, decided_at = ? WHERE id = ?",
                                       [.text(proposal.status.rawValue), .optional(proposal.cartID?.rawValue), .optional(proposal.orderID?.rawValue),
                                        .optional(proposal.decidedAt), .text(proposal.id.rawValue)])
    }

    func proposal(_ id: ProposalID) throws -> Proposal? {
        try readers.read { connection in
            try connection.query("SELECT \(Self.proposalColumns) FROM proposals WHERE id = ?", [.text(id.rawValue)]).first.map(Self.proposal)
        }
    }

    func proposal(_ id: ProposalID, in transaction: any WriteTransaction) throws -> Proposal? {
        try transaction.connection.query("SELECT \(Self.proposalColumns) FROM proposals WHERE id = ?", [.text(id.rawValue)]).first.map(Self.proposal)
    }

    /// Each statement repeats `wishlist > 0`, the index's condition, so that SQLite sees the partial
    /// index applies.
    func wishedSKUs() throws -> Set<String> {
        try readers.read { connection in
            Set(try connection.query("SELECT DISTINCT sku FROM replenishment_items INDEXED BY replenishment_wishlist WHERE wishlist > 0").map { values in
                try StoredRow(values, table: "replenishment_items", keyColumn: "sku").text("sku")
            })
        }
    }

    func soldOut(_ sku: String, in transaction: any WriteTransaction) throws {
        try transaction.connection.run("UPDATE replenishment_items SET wishlist = 2 WHERE sku = ? AND wishlist > 0 AND wishlist = 1", [.text(sku)])
    }

    func takeWishes(for sku: String, in transaction: any WriteTransaction) throws -> Wishes? {
        let connection = transaction.connection
        let customers = try connection.query(
            """
            SELECT c.id FROM replenishment_items r INDEXED BY replenishment_wishlist JOIN customers c ON c.seq = r.customer_seq
            WHERE r.sku = ? AND r.wishlist > 0 AND r.wishlist = 2 AND c.erased_at IS NULL
            """, [.text(sku)]).map { values in CustomerID(rawValue: try StoredRow(values, table: "customers", keyColumn: "id").text("id")) }
        guard !customers.isEmpty else { return nil }
        try connection.run("UPDATE replenishment_items SET wishlist = 0 WHERE sku = ? AND wishlist > 0 AND wishlist = 2", [.text(sku)])
        guard let values = try connection.query(
            "SELECT p.id, p.title AS product_title, v.title AS variant_title FROM variants v JOIN products p ON p.seq = v.product_seq WHERE v.sku = ?",
            [.text(sku)]).first else { return nil }
        let row = StoredRow(values, table: "variants", keyColumn: "sku")
        return Wishes(product: ProductID(rawValue: try row.text("id")),
                      title: CartVariant.title(product: try row.text("product_title"), variant: try row.optionalText("variant_title")),
                      customers: customers)
    }

    func putOff(customer: CustomerID, skus: [String: Wish], until: String, in transaction: any WriteTransaction) throws {
        for (sku, wish) in skus.sorted(by: { $0.key < $1.key }) {
            try transaction.connection.run(
                """
                INSERT INTO replenishment_items (customer_seq, sku, snoozed_until, wishlist)
                SELECT seq, ?, ?, ? FROM customers WHERE id = ?
                ON CONFLICT (customer_seq, sku) DO UPDATE SET snoozed_until = excluded.snoozed_until, wishlist = excluded.wishlist
                """,
                [.text(sku), .text(until), .integer(Int64(wish.rawValue)), .text(customer.rawValue)])
        }
    }

    func report(at now: String) throws -> (counts: [ProposalStatus: Int], confirmedRevenue: Int64) {
        try readers.read { connection in
            var counts: [ProposalStatus: Int] = [:]
            for values in try connection.query(
                """
                SELECT CASE WHEN status = 'open' AND expires_at <= ? THEN 'expired' ELSE status END AS status, count(*) AS n
                FROM proposals GROUP BY 1
                """, [.text(now)]) {
                let row = StoredRow(values, table: "proposals", keyColumn: "status")
                counts[try row.value("status", as: ProposalStatus.self)] = try row.int("n")
            }
            let revenue = try connection.query(
                "SELECT coalesce(sum(o.total), 0) AS total FROM proposals p JOIN orders o ON o.id = p.order_id WHERE p.status = 'confirmed'"
            ).first ?? [:]
            return (counts, try StoredRow(revenue, table: "orders", keyColumn: "total").int64("total"))
        }
    }

    func startRun(_ key: String, at: String, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("INSERT INTO replenishment_runs (key, started_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                                       [.text(key), .text(at)]) > 0
    }

    func unfinishedRuns() throws -> [ReplenishmentRun] {
        try readers.read { connection in
            try connection.query("SELECT key, cursor, proposals, customers, started_at, finished_at FROM replenishment_runs WHERE finished_at IS NULL ORDER BY key")
                .map { values in
                    let row = StoredRow(values, table: "replenishment_runs", keyColumn: "key")
                    return ReplenishmentRun(key: try row.text("key"), cursor: try row.int64("cursor"), proposals: try row.int("proposals"),
                                            customers: try row.int("customers"), startedAt: try row.text("started_at"),
                                            finishedAt: try row.optionalText("finished_at"))
                }
        }
    }

    func saveRun(_ run: ReplenishmentRun, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "UPDATE replenishment_runs SET cursor = ?, proposals = ?, customers = ?, finished_at = ? WHERE key = ?",
            [.integer(run.cursor), .integer(Int64(run.proposals)), .integer(Int64(run.customers)), .optional(run.finishedAt), .text(run.key)])
    }

    private static func proposal(_ values: SQLiteConnection.Row) throws -> Proposal {
        let row = StoredRow(values, table: "proposals", keyColumn: "id")
        return Proposal(
            id: try row.id("id", as: ProposalID.self), customerID: CustomerID(rawValue: try row.text("customer_id")), runKey: try row.text("run_key"),
            items: try row.json("items", as: [ProposalItem].self), status: try row.value("status", as: ProposalStatus.self),
            cartID: try row.optionalText("cart_id").map(CartID.init(rawValue:)),
            orderID: try row.optionalText("order_id").map(OrderID.init(rawValue:)), createdAt: try row.text("created_at"),
            decidedAt: try row.optionalText("decided_at"), expiresAt: try row.text("expires_at"))
    }
}
