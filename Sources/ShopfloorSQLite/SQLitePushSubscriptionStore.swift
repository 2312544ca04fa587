import ShopfloorDomain
import ShopfloorStorage

/// Push subscriptions in table `push_subscriptions` (migration 13), one row per endpoint.
struct SQLitePushSubscriptionStore: PushSubscriptionStore {
    let readers: ReaderPool

    private static let columns = "id, endpoint, p256dh, auth, visitor, customer_id, cart_id, order_id, created_at, updated_at"

    func upsert(_ subscription: PushSubscription, in transaction: any WriteTransaction) throws -> PushSubscription {
        let connection = transaction.connection
        try connection.run(
            """
            INSERT INTO push_subscriptions (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth,
                visitor = coalesce(excluded.visitor, visitor), customer_id = coalesce(excluded.customer_id, customer_id),
                cart_id = coalesce(excluded.cart_id, cart_id), order_id = coalesce(excluded.order_id, order_id), updated_at = excluded.updated_at
            """,
            [.text(subscription.id.rawValue), .text(subscription.endpoint), .text(subscription.p256dh), .text(subscription.auth),
             .optional(subscription.visitor), .optional(subscription.customerID), .optional(subscription.cartID?.rawValue),
             .optional(subscription.orderID?.rawValue), .text(subscription.createdAt), .text(subscription.updatedAt)])
        guard let stored = try connection.query("SELECT \(Self.columns) FROM push_subscriptions WHERE endpoint = ?", [.text(subscription.endpoint)])
            .first else { throw StoreError.badRow(table: "push_subscriptions", key: subscription.endpoint, column: "endpoint") }
        return try Self.subscription(stored)
    }

    func delete(endpoint: String, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("DELETE FROM push_subscriptions WHERE endpoint = ?", [.text(endpoint)]) > 0
    }

    func delete(_ id: PushSubscriptionID, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("DELETE FROM push_subscriptions WHERE id = ?", [.text(id.rawValue)]) > 0
    }

    func subscription(endpoint: String) throws -> PushSubscription? {
        try readers.read { connection in
            try connection.query("SELECT \(Self.columns) FROM push_subscriptions WHERE endpoint = ?", [.text(endpoint)]).first.map {
                try Self.subscription($0)
            }
        }
    }

    func subscriptions(following order: OrderID, cart: CartID, in transaction: any WriteTransaction) throws -> [PushSubscription] {
        try transaction.connection.query(
            "SELECT \(Self.columns) FROM push_subscriptions WHERE order_id = ? OR cart_id = ? ORDER BY created_at, id",
            [.text(order.rawValue), .text(cart.rawValue)]
        ).map { try Self.subscription($0) }
    }

    func latest(customer: String?, cart: CartID?, in transaction: any WriteTransaction) throws -> PushSubscription? {
        for (column, value) in [("customer_id", customer), ("cart_id", cart?.rawValue)] {
            guard let value else { continue }
            if let found = try transaction.connection.query(
                "SELECT \(Self.columns) FROM push_subscriptions WHERE \(column) = ? ORDER BY updated_at DESC, id LIMIT 1", [.text(value)]).first {
                return try Self.subscription(found)
            }
        }
        return nil
    }

    private static func subscription(_ values: SQLiteConnection.Row) throws -> PushSubscription {
        let row = StoredRow(values, table: "push_subscriptions", keyColumn: "id")
        return PushSubscription(
            id: try row.id("id", as: PushSubscriptionID.self), endpoint: try row.text("endpoint"), p256dh: try row.text("p256dh"),
            auth: try row.text("auth"), visitor: try row.optionalText("visitor"), customerID: try row.optionalText("customer_id"),
            cartID: try row.optionalText("cart_id").map(CartID.init(rawValue:)), orderID: try row.optionalText("order_id").map(OrderID.init(rawValue:)),
            createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"))
    }
}
