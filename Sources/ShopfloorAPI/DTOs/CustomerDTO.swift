import ShopfloorCrypto
import ShopfloorDomain
import ShopfloorJSON

/// A customer as the API shows it (API.md, Customers). The staff's `note` is left out for tills and
/// for the shopper themselves: `showsNote` decides.
struct CustomerDTO: DirectJSONEncodable {
    var id: String
    @Nullable var email: String?
    @Nullable var phone: String?
    @Nullable var firstName: String?
    @Nullable var lastName: String?
    var tags: [String]
    /// Absent (not `null`) when the reader may not see it.
    var note: Nullable<String>?
    @Nullable var locale: String?
    @Nullable var timezone: String?
    var addresses: [Address]
    var hasAccount: Bool
    var consent: ConsentSet
    var stats: StatsDTO
    var preferences: PreferencesDTO
    var erased: Bool
    var createdAt: String
    var updatedAt: String

    init(_ customer: Customer, currency: Currency, views: [ProductView], showsNote: Bool) {
        id = customer.id.rawValue
        email = customer.email
        phone = customer.phone
        firstName = customer.firstName
        lastName = customer.lastName
        tags = customer.tags
        note = showsNote ? Nullable(wrappedValue: customer.note) : nil
        locale = customer.locale
        timezone = customer.timezone
        addresses = customer.addresses
        hasAccount = customer.hasAccount
        consent = ConsentSet(customer.consent)
        stats = StatsDTO(customer.stats, currency: currency)
        preferences = PreferencesDTO(categories: customer.preferences.topCategories, attributes: customer.preferences.topAttributes,
                                     lastViewed: views.map(ProductViewDTO.init))
        erased = customer.erasedAt != nil
        createdAt = customer.createdAt
        updatedAt = customer.updatedAt
    }

    /// A page of customers writes 20 to 200 of these: written by hand, not through the `Encoder`.
    func writeJSON(into object: inout JSONObjectWriter) throws {
        object.string("id", id)
        object.string("email", orNull: email)
        object.string("phone", orNull: phone)
        object.string("first_name", orNull: firstName)
        object.string("last_name", orNull: lastName)
        object.array("tags", tags) { tag, array in array.string(tag) }
        if let note { object.string("note", orNull: note.wrappedValue) }
        object.string("locale", orNull: locale)
        object.string("timezone", orNull: timezone)
        object.array("addresses", addresses) { address, array in
            array.object { fields in
                fields.string("name", address.name)
                fields.string("line1", address.line1)
                fields.string("line2", ifPresent: address.line2)
                fields.string("city", address.city)
                fields.string("region", ifPresent: address.region)
                fields.string("postal_code", address.postalCode)
                fields.string("country", address.country)
                fields.string("phone", ifPresent: address.phone)
            }
        }
        object.bool("has_account", hasAccount)
        object.object("consent") { fields in
            for (name, consent) in [("email", consent.email), ("sms", consent.sms), ("push", consent.push)] {
                fields.object(name) { consent.writeMembers(into: &$0) }
            }
        }
        try object.object("stats") { fields in
            fields.integer("orders_count", Int64(stats.ordersCount))
            fields.money("total_spent", stats.totalSpent)
            fields.money("average_order_value", stats.averageOrderValue)
            fields.string("first_order_at", orNull: stats.firstOrderAt)
            fields.string("last_order_at", orNull: stats.lastOrderAt)
            try fields.double("average_days_between_orders", orNull: stats.averageDaysBetweenOrders)
        }
        object.object("preferences") { fields in
            fields.array("categories", preferences.categories) { category, array in array.string(category) }
            fields.object("attributes") { attributes in
                for name in preferences.attributes.keys.sorted() {
                    attributes.array(name, preferences.attributes[name] ?? []) { value, array in array.string(value) }
                }
            }
            fields.array("last_viewed", preferences.lastViewed) { view, array in
                array.object { entry in
                    entry.string("product_id", view.productID)
                    entry.string("at", view.at)
                }
            }
        }
        object.bool("erased", erased)
        object.string("created_at", createdAt)
        object.string("updated_at", updatedAt)
    }

    struct ConsentSet: Encodable {
        var email: ConsentDTO
        var sms: ConsentDTO
        var push: ConsentDTO

        init(_ consent: [ConsentChannel: Consent]) {
            email = ConsentDTO(consent[.email] ?? .never)
            sms = ConsentDTO(consent[.sms] ?? .never)
            push = ConsentDTO(consent[.push] ?? .never)
        }
    }

    struct StatsDTO: Encodable {
        var ordersCount: Int
        var totalSpent: Money
        var averageOrderValue: Money
        @Nullable var firstOrderAt: String?
        @Nullable var lastOrderAt: String?
        @Nullable var averageDaysBetweenOrders: Double?

        init(_ stats: CustomerStats, currency: Currency) {
            ordersCount = stats.ordersCount
            totalSpent = Money(amount: stats.totalSpent, currency: currency)
            averageOrderValue = Money(amount: stats.averageOrderValue, currency: currency)
            firstOrderAt = stats.firstOrderAt
            lastOrderAt = stats.lastOrderAt
            averageDaysBetweenOrders = stats.averageDaysBetweenOrders
        }
    }

    struct PreferencesDTO: Encodable {
        var categories: [String]
        var attributes: [String: [String]]
        var lastViewed: [ProductViewDTO]
    }
}

/// A product a customer viewed, and when.
struct ProductViewDTO: Encodable {
    var productID: String
    var at: String

    init(_ view: ProductView) {
        productID = view.productID
        at = view.at
    }
}

/// One channel's consent; naming the channel when it answers a change of one.
struct ConsentDTO: DirectJSONEncodable {
    var channel: ConsentChannel?
    var state: Consent.State
    @Nullable var level: Consent.Level?
    @Nullable var source: String?
    @Nullable var updatedAt: String?

    init(_ consent: Consent, channel: ConsentChannel? = nil) {
        self.channel = channel
        state = consent.state
        level = consent.level
        source = consent.source
        updatedAt = consent.updatedAt
    }

    func writeJSON(into object: inout JSONObjectWriter) throws {
        writeMembers(into: &object)
    }

    func writeMembers(into object: inout JSONObjectWriter) {
        object.string("channel", ifPresent: channel?.rawValue)
        object.string("state", state.rawValue)
        object.string("level", orNull: level?.rawValue)
        object.string("source", orNull: source)
        object.string("updated_at", orNull: updatedAt)
    }
}

/// An entry of the consent ledger.
struct ConsentHistoryDTO: Encodable {
    var channel: ConsentChannel
    var state: Consent.State
    @Nullable var level: Consent.Level?
    @Nullable var source: String?
    var at: String

    init(_ change: ConsentChange) {
        channel = change.channel
        state = change.consent.state
        level = change.consent.level
        source = change.consent.source
        at = change.consent.updatedAt ?? ""
    }
}

/// A timeline entry: `type`, `at`, then the entry's own members.
struct TimelineEntryDTO: Encodable {
    var entry: TimelineEntry

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(entry.kind.rawValue, forKey: Key(stringValue: "type"))
        try container.encode(entry.at, forKey: Key(stringValue: "at"))
        for (name, value) in entry.fields {
            switch value {
            case .text(let text): try container.encode(text, forKey: Key(stringValue: name))
            case .money(let money): try container.encode(money, forKey: Key(stringValue: name))
            }
        }
    }

    /// The opaque `next_cursor` of a timeline page: the last entry's time and key.
    static func cursor(_ cursor: TimelineEntry.Cursor) -> String {
        Base64URL.encode(Array((cursor.at + "\n" + cursor.key).utf8))
    }

    /// A cursor read back; `nil` when it is not one this server made.
    static func cursor(_ text: String) -> TimelineEntry.Cursor? {
        guard text.utf8.count <= 200, let bytes = try? Base64URL.decode(text) else { return nil }
        let decoded = String(decoding: bytes, as: UTF8.self)
        guard let newline = decoded.firstIndex(of: "\n") else { return nil }
        let at = String(decoded[..<newline])
        let key = String(decoded[decoded.index(after: newline)...])
        guard Timestamp.date(at) != nil, !key.isEmpty else { return nil }
        return TimelineEntry.Cursor(at: at, key: key)
    }
}

/// An order in brief, as a till shows it.
struct OrderSummaryDTO: Encodable {
    var id: String
    var number: String
    var channel: Cart.Channel
    var status: OrderStatus
    var total: Money
    var createdAt: String
    var lines: [Line]

    struct Line: Encodable {
        var sku: String
        var title: String
        var quantity: Int
    }

    init(_ order: Order) {
        id = order.id.rawValue
        number = order.number
        channel = order.channel
        status = order.status
        total = order.totals.total
        createdAt = order.createdAt
        lines = order.lines.map { Line(sku: $0.sku, title: $0.title, quantity: $0.quantity) }
    }
}

/// `GET /v1/customers/lookup`: the customer and what a till needs to serve them.
struct CustomerLookupDTO: Encodable {
    var customer: CustomerDTO
    var recentOrders: [OrderSummaryDTO]
    var recentlyViewed: [ProductViewDTO]
    var openCarts: [Cart]
}

/// `GET /v1/customers/{id}/export`: everything the shop holds about the person.
struct CustomerExportDTO: Encodable {
    var customer: CustomerDTO
    var orders: [Order]
    var carts: [Cart]
    var messages: [MessageDTO]
    var consentHistory: [ConsentHistoryDTO]
    var timeline: [TimelineEntryDTO]
}

/// A saved segment and how many customers it holds now.
struct SegmentDTO: Encodable {
    var id: String
    var name: String
    var filter: JSONValue
    var count: Int
    var createdAt: String
    var updatedAt: String

    init(_ segment: Segment, count: Int) {
        id = segment.id.rawValue
        name = segment.name
        filter = segment.definition
        self.count = count
        createdAt = segment.createdAt
        updatedAt = segment.updatedAt
    }
}
