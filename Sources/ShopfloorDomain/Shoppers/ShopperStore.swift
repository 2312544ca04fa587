/// Visitors, their activity, conversations with them and the offers made to them.
public protocol ShopperStore: Sendable {
    /// The visitor, if it was ever seen (and not erased with its customer).
    func visitor(_ id: VisitorID) throws -> VisitorRecord?
    func insertVisitor(_ id: VisitorID, at: String, in transaction: any WriteTransaction) throws
    /// Keeps the visitor's stage (for segments) and when it was last seen.
    func setStage(_ stage: ShopperStage, of id: VisitorID, at: String, in transaction: any WriteTransaction) throws
    /// Marks the visitor live (joined) or not (left).
    func setLive(_ live: Bool, of id: VisitorID, in transaction: any WriteTransaction) throws
    /// The visitors still marked live: at start, those a stopped server never saw leave.
    func liveVisitors() throws -> [VisitorID]
    /// Stores one action; a product view of a visitor known to be a customer also goes to the
    /// customer's views (preferences, segments).
    func record(_ activity: StoredActivity, in transaction: any WriteTransaction) throws
    /// Links the visitor to `customer`: its earlier product views become the customer's.
    func link(_ id: VisitorID, to customer: CustomerID, in transaction: any WriteTransaction) throws
    /// The active carts with their number of lines and checkout step: where the live stats start.
    func activeCarts() throws -> [(cart: CartID, lines: Int, step: String)]
    /// What the live stats count of the order placed from `cart`: its total, and how many of its
    /// codes were offers to live shoppers.
    func placedOrder(fromCart cart: CartID) throws -> (total: Money, offers: Int)?
    /// Deletes activity older than `cutoff` (oldest first, like the event log); returns how many went.
    func pruneActivity(before cutoff: String, in transaction: any WriteTransaction) throws -> Int

    /// The visitor's conversation, if the shop or the shopper has written.
    func conversation(ofVisitor id: VisitorID) throws -> ConversationID?
    func insertConversation(_ id: ConversationID, visitor: VisitorID, customer: CustomerID?, at: String, in transaction: any WriteTransaction) throws
    func append(_ message: ConversationMessage, to id: ConversationID, in transaction: any WriteTransaction) throws
    /// Up to `limit` conversations, most recently written first, each with its last message and its
    /// position (the order they are listed in), starting after `position`.
    func conversations(limit: Int, before position: Int64?) throws -> [(position: Int64, conversation: Conversation)]
    /// The conversation with every message, oldest first.
    func conversation(_ id: ConversationID) throws -> Conversation?

    /// The offer with this code (letter case aside), with whether it was used.
    func offer(code: String) throws -> Offer?
    /// Marks the offer accepted onto `cart`, binding it to that cart (instead of a customer).
    func accept(offer code: String, cart: CartID, at: String, in transaction: any WriteTransaction) throws
}

/// A visitor as stored.
public struct VisitorRecord: Sendable, Equatable {
    public var id: VisitorID
    public var customerID: CustomerID?
    public var stage: ShopperStage

    public init(id: VisitorID, customerID: CustomerID?, stage: ShopperStage) {
        self.id = id
        self.customerID = customerID
        self.stage = stage
    }
}

/// One action as stored: the visitor, the product and category of a view, the data as JSON text.
public struct StoredActivity: Sendable {
    public var visitor: VisitorID
    public var customer: CustomerID?
    public var kind: ActivityKind
    public var productID: ProductID?
    public var category: String?
    public var data: String
    public var at: String
}
