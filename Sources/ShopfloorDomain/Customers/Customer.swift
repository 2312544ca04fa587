import Foundation

/// One person across the web shop and the till (API.md, Customers): how to reach them, what the shop
/// knows of them, their consent per channel, and figures kept current as they buy.
public struct Customer: Sendable, Equatable {
    public var id: CustomerID
    /// Trimmed and lower-cased (``ContactAddress/email(_:)``); unique among customers.
    public var email: String?
    /// E.164 (``ContactAddress/phone(_:)``); unique among customers.
    public var phone: String?
    public var firstName: String?
    public var lastName: String?
    public var tags: [String]
    /// Staff's note: shown to admins, not to tills or the customer.
    public var note: String?
    public var locale: String?
    public var timezone: String?
    public var addresses: [Address]
    /// Signed in at least once with an emailed code.
    public var hasAccount: Bool
    public var consent: [ConsentChannel: Consent]
    public var stats: CustomerStats
    public var preferences: CustomerPreferences
    /// When the person's data was erased; the record stays for the books.
    public var erasedAt: String?
    public var createdAt: String
    public var updatedAt: String

    public init(id: CustomerID, email: String?, phone: String?, firstName: String?, lastName: String?, tags: [String], note: String?,
                locale: String?, timezone: String?, addresses: [Address], hasAccount: Bool, consent: [ConsentChannel: Consent],
                stats: CustomerStats, preferences: CustomerPreferences, erasedAt: String?, createdAt: String, updatedAt: String) {
        self.id = id
        self.email = email
        self.phone = phone
        self.firstName = firstName
        self.lastName = lastName
        self.tags = tags
        self.note = note
        self.locale = locale
        self.timezone = timezone
        self.addresses = addresses
        self.hasAccount = hasAccount
        self.consent = consent
        self.stats = stats
        self.preferences = preferences
        self.erasedAt = erasedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The name as one line, for search and lists.
    public var fullName: String? {
        let name = [firstName, lastName].compactMap { $0 }.joined(separator: " ")
        return name.isEmpty ? nil : name
    }
}

/// Order figures of a customer, in the shop's currency, kept current as orders are placed,
/// cancelled and refunded rather than summed on each read.
public struct CustomerStats: Sendable, Equatable {
    public var ordersCount: Int
    /// Minor units of the shop's currency: totals of orders in it, less those cancelled or refunded.
    public var totalSpent: Int64
    public var firstOrderAt: String?
    public var lastOrderAt: String?

    public init(ordersCount: Int, totalSpent: Int64, firstOrderAt: String?, lastOrderAt: String?) {
        self.ordersCount = ordersCount
        self.totalSpent = totalSpent
        self.firstOrderAt = firstOrderAt
        self.lastOrderAt = lastOrderAt
    }

    public static let none = CustomerStats(ordersCount: 0, totalSpent: 0, firstOrderAt: nil, lastOrderAt: nil)

    /// Total spent over the orders placed, rounded down; 0 before the first order.
    public var averageOrderValue: Int64 { ordersCount == 0 ? 0 : totalSpent / Int64(ordersCount) }

    /// Days from the first order to the last over the gaps between them, to two places; `nil` below two orders.
    public var averageDaysBetweenOrders: Double? {
        guard ordersCount >= 2, let first = firstOrderAt.flatMap(Timestamp.date), let last = lastOrderAt.flatMap(Timestamp.date)
        else { return nil }
        let days = last.timeIntervalSince(first) / 86_400 / Double(ordersCount - 1)
        return (days * 100).rounded() / 100
    }
}

/// What a customer buys and looks at: units bought per product category and per variant attribute
/// value (`size` → `M` → 3), and products viewed lately, most recent first.
public struct CustomerPreferences: Sendable, Equatable, Encodable {
    public var categories: [String: Int]
    public var attributes: [String: [String: Int]]

    public init(categories: [String: Int] = [:], attributes: [String: [String: Int]] = [:]) {
        self.categories = categories
        self.attributes = attributes
    }

    /// Categories, most units first (ties by name).
    public var topCategories: [String] { Self.ranked(categories) }

    /// Per attribute, its values, most units first (ties by name).
    public var topAttributes: [String: [String]] { attributes.mapValues(Self.ranked) }

    /// The dimension categories are counted under; attributes are under `attribute:<name>`.
    public static let categoryDimension = "category"
    public static let attributePrefix = "attribute:"

    /// Units of a line per dimension: its category's and each attribute value's.
    static func units(category: String?, attributes bought: [String: String], units: Int) -> [PreferenceUnits] {
        var rows = category.map { [PreferenceUnits(dimension: categoryDimension, value: $0, units: units)] } ?? []
        for (name, value) in bought.sorted(by: { $0.key < $1.key }) {
            rows.append(PreferenceUnits(dimension: attributePrefix + name, value: value, units: units))
        }
        return rows
    }

    /// Adds units bought (``units(category:attributes:units:)``).
    public mutating func add(_ rows: [PreferenceUnits]) {
        for row in rows {
            if row.dimension == Self.categoryDimension {
                categories[row.value, default: 0] += row.units
            } else if row.dimension.hasPrefix(Self.attributePrefix) {
                attributes[String(row.dimension.dropFirst(Self.attributePrefix.count)), default: [:]][row.value, default: 0] += row.units
            }
        }
    }

    private static func ranked(_ counts: [String: Int]) -> [String] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }
}

/// A product a customer looked at, and when.
public struct ProductView: Sendable, Equatable {
    public var productID: String
    public var at: String

    public init(productID: String, at: String) {
        self.productID = productID
        self.at = at
    }
}
