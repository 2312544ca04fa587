/// Where orders live, with their lines, payments and status history.
public protocol OrderStore: Sendable {
    // MARK: Reads, from the last commit

    func order(_ id: OrderID) throws -> Order?
    /// The order a cart became.
    func order(forCart cart: CartID) throws -> Order?
    /// The order with this tracking token.
    func order(trackingToken: String) throws -> Order?
    /// How many orders were placed from `since` on, and their total in `currency`.
    func placed(since: String, currency: Currency) throws -> (count: Int, total: Int64)
    /// Orders matching `filter` (its times already in stored form), newest first, placed before the
    /// order at position `before`, at most `limit`; with each, its position for the next page's cursor.
    func orders(_ filter: OrderService.Filter, before: Int64, limit: Int) throws -> [(position: Int64, order: Order)]

    // MARK: Inside the writer's transaction

    /// The order as `transaction` sees it.
    func order(_ id: OrderID, in transaction: any WriteTransaction) throws -> Order?
    /// The number the next order placed gets (its `#` form is the order's `number`).
    func nextNumber(in transaction: any WriteTransaction) throws -> Int
    /// Inserts a new order with its lines and payments; its history is written by ``appendHistory(_:_:in:)``.
    /// A `pos` order's `location` is its till's location code.
    func insert(_ order: Order, in transaction: any WriteTransaction) throws
    /// Sets the order's status and, if given, its tracking number.
    func setStatus(_ id: OrderID, _ status: OrderStatus, trackingNumber: String?, updatedAt: String, in transaction: any WriteTransaction) throws
    func appendHistory(_ id: OrderID, _ entry: OrderHistoryEntry, in transaction: any WriteTransaction) throws
    /// The payment's order and status.
    func payment(_ id: PaymentID, in transaction: any WriteTransaction) throws -> (order: OrderID, status: Payment.Status)?
    func setPaymentStatus(_ id: PaymentID, _ status: Payment.Status, in transaction: any WriteTransaction) throws
    /// Marks the order's succeeded payments refunded.
    func refundPayments(of order: OrderID, in transaction: any WriteTransaction) throws
}

/// Where the one-time PINs of till hand-overs live, as hashes.
public protocol HandoverStore: Sendable {
    func insert(order: OrderID, location: LocationID, pinHash: [UInt8], expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws
    /// The hand-overs at `location` not yet used, expired or locked by wrong tries (limited to `cart`'s
    /// order when given), with their PIN hashes.
    func open(at location: LocationID, cart: CartID?, now milliseconds: Int64, maxAttempts: Int,
              in transaction: any WriteTransaction) throws -> [(order: OrderID, pinHash: [UInt8])]
    /// Counts a wrong try against the order's hand-over.
    func countFailedAttempt(order: OrderID, in transaction: any WriteTransaction) throws
    func markUsed(order: OrderID, at: String, in transaction: any WriteTransaction) throws
}
