/// Where customers live: their records, tags and search index, consent and its ledger, what they
/// bought and viewed, and the audit of merges and erasures. Segment filters are evaluated here, in the
/// store's own query language, never row by row in Swift.
public protocol CustomerStore: Sendable {
    // MARK: Reads, from the last commit

    func customer(_ id: CustomerID) throws -> Customer?
    /// The customer with this normalised email or E.164 phone.
    func customer(email: String) throws -> Customer?
    func customer(phone: String) throws -> Customer?
    /// Customers matching `selection`, newest first, before position `before`, at most `limit`; erased ones never.
    func customers(_ selection: CustomerSelection, before: Int64, limit: Int) throws -> [(position: Int64, customer: Customer)]
    /// How many customers `filter` selects (its times already absolute).
    func count(_ filter: SegmentFilter) throws -> Int
    /// The flat rows of an export, oldest first, after position `after`, at most `limit`.
    func exportRows(_ filter: SegmentFilter?, after: Int64, limit: Int) throws -> [CustomerExportRow]
    /// The consent ledger, newest first, before position `before`.
    func consentHistory(of id: CustomerID, before: Int64, limit: Int) throws -> [ConsentChange]
    /// What happened to the customer, newest first, before `before` (a ``TimelineEntry/cursor``).
    func timeline(of id: CustomerID, before: TimelineEntry.Cursor?, limit: Int) throws -> [TimelineEntry]
    /// Products the customer viewed lately, most recent first.
    func views(of id: CustomerID, limit: Int) throws -> [ProductView]
    /// The same for a page of customers, in one read.
    func views(of ids: [CustomerID], limit: Int) throws -> [CustomerID: [ProductView]]

    // MARK: Inside the writer's transaction

    func customer(_ id: CustomerID, in transaction: any WriteTransaction) throws -> Customer?
    /// Whether the customer is in the segment `filter` (its times already resolved): a flow's `if`.
    func matches(_ filter: SegmentFilter, customer id: CustomerID, in transaction: any WriteTransaction) throws -> Bool
    func customer(email: String, in transaction: any WriteTransaction) throws -> Customer?
    func customer(phone: String, in transaction: any WriteTransaction) throws -> Customer?
    /// Inserts a new customer with its search entry and tags; ``StoreError/duplicate(constraint:)`` on
    /// `customers.email` or `customers.phone` when another has them.
    func insert(_ customer: Customer, in transaction: any WriteTransaction) throws
    /// Writes the customer's own fields, stats and preferences, search entry and tags (not consent).
    func update(_ customer: Customer, in transaction: any WriteTransaction) throws
    /// Who an order being placed belongs to, read lightly (nothing decoded): by id, email or phone.
    func contact(_ id: CustomerID, in transaction: any WriteTransaction) throws -> CustomerContact?
    func contact(email: String, in transaction: any WriteTransaction) throws -> CustomerContact?
    func contact(phone: String, in transaction: any WriteTransaction) throws -> CustomerContact?
    /// Adds a placed order to its customer in the store, touching the customer's own row and appending
    /// purchases: the stats, the units to the preferences, the shipping address when new (up to
    /// `maxAddresses`), and one purchase row per line.
    func recordOrder(_ activity: OrderActivity, in transaction: any WriteTransaction) throws
    /// Takes a cancelled or refunded order back: `amount` out of `total_spent`, and its lines out of
    /// the customer's purchases (segments, replenishment intervals).
    func withdraw(_ order: OrderID, amount: Int64, from id: CustomerID, at: String, in transaction: any WriteTransaction) throws
    /// Sets a channel's consent and appends it to the ledger.
    func setConsent(_ consent: Consent, channel: ConsentChannel, of id: CustomerID, in transaction: any WriteTransaction) throws
    /// What a product line is, for purchases and preferences: its product, category and attributes.
    func variantFacts(sku: String, in transaction: any WriteTransaction) throws -> VariantFacts?
    /// Moves everything of `from` (orders, carts, messages, push subscriptions, sessions, purchases,
    /// views, consent ledger) to `into`, then deletes `from`.
    func merge(_ from: CustomerID, into: CustomerID, in transaction: any WriteTransaction) throws
    /// Removes the person's data from the customer, its carts, orders, messages, push subscriptions,
    /// sessions and the event log; `redact` lists the personal strings to blank out where they are embedded.
    func erase(_ id: CustomerID, redact: [String], at: String, in transaction: any WriteTransaction) throws
    func audit(_ id: CustomerID, action: String, actor: String, detail: String, at: String, in transaction: any WriteTransaction) throws
}

/// Which customers a listing reads: those whose name, email, phone, tags or note have a word
/// starting with each of `words` (all when empty), or whose email starts with `emailPrefix`, and in
/// `filter` when given.
public struct CustomerSelection: Sendable {
    public var words: [String]
    /// Lower-case, with its `@`: a search that is an email address or the start of one.
    public var emailPrefix: String?
    public var filter: SegmentFilter?

    public init(words: [String], emailPrefix: String? = nil, filter: SegmentFilter?) {
        self.words = words
        self.emailPrefix = emailPrefix
        self.filter = filter
    }
}

/// A customer as an order placement sees them: enough to link the order and learn a missing address.
public struct CustomerContact: Sendable, Equatable {
    public var id: CustomerID
    public var email: String?
    public var phone: String?

    public init(id: CustomerID, email: String?, phone: String?) {
        self.id = id
        self.email = email
        self.phone = phone
    }
}

/// A placed order as its customer's store records it.
public struct OrderActivity: Sendable {
    public var customerID: CustomerID
    public var orderID: OrderID
    /// Added to `total_spent`: the order's total in the shop's currency, 0 in another.
    public var amount: Int64
    public var at: String
    public var address: Address?
    public var maxAddresses: Int
    /// Units bought per preference dimension (`category`, `attribute:size`…) and value.
    public var units: [PreferenceUnits]
    public var purchases: [Purchase]

    public init(customerID: CustomerID, orderID: OrderID, amount: Int64, at: String, address: Address?, maxAddresses: Int,
                units: [PreferenceUnits], purchases: [Purchase]) {
        self.customerID = customerID
        self.orderID = orderID
        self.amount = amount
        self.at = at
        self.address = address
        self.maxAddresses = maxAddresses
        self.units = units
        self.purchases = purchases
    }
}

/// Units bought of one value of one preference dimension.
public struct PreferenceUnits: Sendable, Equatable {
    public var dimension: String
    public var value: String
    public var units: Int

    public init(dimension: String, value: String, units: Int) {
        self.dimension = dimension
        self.value = value
        self.units = units
    }
}

/// One order line as the customer's purchase record.
public struct Purchase: Sendable, Equatable {
    public var sku: String
    public var productID: String?
    public var category: String?
    /// Where it was sold: the till's location code, or the first location an online line shipped from.
    public var location: String?
    public var quantity: Int
    public var at: String

    public init(sku: String, productID: String?, category: String?, location: String?, quantity: Int, at: String) {
        self.sku = sku
        self.productID = productID
        self.category = category
        self.location = location
        self.quantity = quantity
        self.at = at
    }
}

/// The catalogue's facts about a SKU that a purchase records.
public struct VariantFacts: Sendable, Equatable {
    public var productID: String
    public var category: String?
    public var attributes: [String: String]

    public init(productID: String, category: String?, attributes: [String: String]) {
        self.productID = productID
        self.category = category
        self.attributes = attributes
    }
}

/// A customer as one CSV row.
public struct CustomerExportRow: Sendable, Equatable {
    public var position: Int64
    public var id: String
    public var email: String?
    public var phone: String?
    public var firstName: String?
    public var lastName: String?
    public var tags: [String]
    public var ordersCount: Int
    public var totalSpent: Int64
    public var lastOrderAt: String?
    public var createdAt: String

    public init(position: Int64, id: String, email: String?, phone: String?, firstName: String?, lastName: String?, tags: [String],
                ordersCount: Int, totalSpent: Int64, lastOrderAt: String?, createdAt: String) {
        self.position = position
        self.id = id
        self.email = email
        self.phone = phone
        self.firstName = firstName
        self.lastName = lastName
        self.tags = tags
        self.ordersCount = ordersCount
        self.totalSpent = totalSpent
        self.lastOrderAt = lastOrderAt
        self.createdAt = createdAt
    }
}

/// One thing that happened to a customer, for their timeline.
public struct TimelineEntry: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case order, cart, view, message, consent
    }

    /// Where the next page starts: the last entry's time and key.
    public struct Cursor: Sendable, Equatable {
        public var at: String
        public var key: String

        public init(at: String, key: String) {
            self.at = at
            self.key = key
        }
    }

    public var kind: Kind
    public var at: String
    /// Unique within the timeline: the kind and the record's id.
    public var key: String
    /// The entry's own members (`order_id`, `number`, `status`…), as text or integers.
    public var fields: [(name: String, value: TimelineValue)]

    public init(kind: Kind, at: String, key: String, fields: [(name: String, value: TimelineValue)]) {
        self.kind = kind
        self.at = at
        self.key = key
        self.fields = fields
    }

    public var cursor: Cursor { Cursor(at: at, key: key) }

    public static func == (lhs: TimelineEntry, rhs: TimelineEntry) -> Bool {
        lhs.kind == rhs.kind && lhs.at == rhs.at && lhs.key == rhs.key
    }
}

/// A value in a timeline entry.
public enum TimelineValue: Sendable, Equatable {
    case text(String)
    case money(Money)
}
