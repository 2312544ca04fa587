import Foundation
import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// Customers for the back office and the till (API.md, Customers): made, read, changed, searched,
/// listed by segment, merged and erased; their timeline, personal-data export, consent and its ledger;
/// the till's lookup by email, phone or pass; and the CSV export, streamed.
///
/// Admins do everything. Tills (`pos`) make, find, read and change customers and record consent, but
/// never see the staff's `note`; erasure, merging, timelines and exports are the admin's.
struct CustomerRoutes {
    let customers: CustomerService
    let segments: SegmentService
    let shoppers: ShopperAuthService
    let messages: MessageService

    /// Rows read per page of the CSV export: the memory an export holds at once, whatever its size.
    static let exportPage = 1000

    func register(on router: inout Router) {
        router.on(.post, "/v1/customers") { request, context in
            let principal = try context.require(.admin, .pos)
            let (body, document) = try request.decodeWithDocument(CustomerBody.self)
            if principal.role == .pos, body.note != nil { throw Self.noteIsForAdmins }
            let made = try await customers.create(body.fields(document, clearing: false), source: principal.role.rawValue)
            return try JSON.response(try dto(made, for: principal), status: .created)
        }
        router.on(.get, "/v1/customers") { request, context in
            let principal = try context.require(.admin, .pos)
            let query = request.queryParameters
            let segment = query["segment"].map(SegmentID.init(rawValue:))
            let page = try customers.customers(query: query["q"], segment: segment, limit: try request.limit(), before: try Self.cursor(request))
            let views = try customers.views(of: page.items.map(\.id))
            return try JSON.response(Page(
                items: page.items.map {
                    CustomerDTO($0, currency: customers.currency, views: views[$0.id] ?? [], showsNote: principal.role == .admin)
                },
                nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/customers/lookup") { request, context in
            let principal = try context.require(.admin, .pos)
            let query = request.queryParameters
            let customer: Customer
            if let pass = query["pass"] {
                guard let id = shoppers.customer(fromPass: pass), let found = try? customers.customer(id), found.erasedAt == nil else {
                    throw ValidationError(field: "pass", detail: "is not a valid pass, or it expired: ask the shopper to show it again")
                }
                customer = found
            } else if query["email"] != nil || query["phone"] != nil {
                guard let found = try customers.find(email: query["email"], phone: query["phone"]) else {
                    throw APIError.missing(detail: "No customer has this \(query["email"] != nil ? "email" : "phone").")
                }
                customer = found
            } else {
                throw ValidationError([FieldError(field: "email", detail: "give email, phone or pass"),
                                       FieldError(field: "phone", detail: "give email, phone or pass"),
                                       FieldError(field: "pass", detail: "give email, phone or pass")])
            }
            return try JSON.response(CustomerLookupDTO(
                customer: try dto(customer, for: principal),
                recentOrders: try customers.orders(of: customer.id, limit: 10, before: nil).items.map(OrderSummaryDTO.init),
                recentlyViewed: try customers.views(of: customer.id).map(ProductViewDTO.init),
                openCarts: try customers.openCarts(of: customer.id)))
        }
        router.on(.get, "/v1/customers/export") { request, context in
            try context.require(.admin)
            let segment = request.queryParameters["segment"].map(SegmentID.init(rawValue:))
            return try csvExport(filter: try segments.exportFilter(segment))
        }
        router.on(.get, "/v1/customers/{id}") { _, context in
            let principal = try context.require(.admin, .pos)
            return try JSON.response(try dto(try customers.customer(CustomerID(rawValue: try context.parameter("id"))), for: principal))
        }
        router.on(.patch, "/v1/customers/{id}") { request, context in
            let principal = try context.require(.admin, .pos)
            let (body, document) = try request.decodeWithDocument(CustomerBody.self)
            if principal.role == .pos, body.note != nil || document.hasNullMember("note") { throw Self.noteIsForAdmins }
            let changed = try await customers.update(CustomerID(rawValue: try context.parameter("id")), with: body.fields(document, clearing: true))
            return try JSON.response(try dto(changed, for: principal))
        }
        router.on(.delete, "/v1/customers/{id}") { _, context in
            let principal = try context.require(.admin)
            try await customers.erase(CustomerID(rawValue: try context.parameter("id")), actor: principal.actor)
            return HTTPServerResponse(status: .noContent)
        }
        router.on(.post, "/v1/customers/{id}/merge") { request, context in
            let principal = try context.require(.admin)
            let body = try request.decode(MergeBody.self)
            guard !body.from.isEmpty, body.from.utf8.count <= 100 else { throw ValidationError(field: "from", detail: "must be a customer id") }
            let merged = try await customers.merge(
                CustomerID(rawValue: try context.parameter("id")), from: CustomerID(rawValue: body.from), actor: principal.actor)
            return try JSON.response(try dto(merged, for: principal))
        }
        router.on(.get, "/v1/customers/{id}/timeline") { request, context in
            try context.require(.admin)
            var cursor: TimelineEntry.Cursor?
            if let raw = request.queryParameters["cursor"] {
                guard let parsed = TimelineEntryDTO.cursor(raw) else { throw APIError.invalidRequest(detail: "cursor is not valid.") }
                cursor = parsed
            }
            let page = try customers.timeline(of: CustomerID(rawValue: try context.parameter("id")), limit: try request.limit(), cursor: cursor)
            return try JSON.response(Page(items: page.items.map(TimelineEntryDTO.init), nextCursor: page.next.map(TimelineEntryDTO.cursor)))
        }
        router.on(.get, "/v1/customers/{id}/export") { _, context in
            let principal = try context.require(.admin)
            return try JSON.response(try personalExport(CustomerID(rawValue: try context.parameter("id")), for: principal))
        }
        router.on(.put, "/v1/customers/{id}/consent/{channel}") { request, context in
            let principal = try context.require(.admin, .pos)
            let channel = try Self.channel(try context.parameter("channel"))
            let body = try request.decode(ConsentBody.self)
            let consent = try await customers.setConsent(
                CustomerID(rawValue: try context.parameter("id")), channel: channel, state: body.state, level: body.level,
                source: body.source ?? principal.role.rawValue)
            return try JSON.response(ConsentDTO(consent, channel: channel))
        }
        router.on(.get, "/v1/customers/{id}/consent/history") { request, context in
            try context.require(.admin, .pos)
            let page = try customers.consentHistory(
                of: CustomerID(rawValue: try context.parameter("id")), limit: try request.limit(), before: try Self.cursor(request))
            return try JSON.response(Page(items: page.items.map(ConsentHistoryDTO.init), nextCursor: page.nextCursor))
        }
    }

    /// The customer as `principal` may see it: tills never see the staff's note.
    private func dto(_ customer: Customer, for principal: Principal) throws -> CustomerDTO {
        CustomerDTO(customer, currency: customers.currency, views: try customers.views(of: customer.id), showsNote: principal.role == .admin)
    }

    /// Everything held about the person (the right of access): the record, orders, carts, messages,
    /// consent ledger and timeline, whole.
    private func personalExport(_ id: CustomerID, for principal: Principal) throws -> CustomerExportDTO {
        let customer = try customers.customer(id)
        var orders: [Order] = []
        var before: Int64?
        repeat {
            let page = try customers.orders(of: id, limit: 200, before: before)
            orders += page.items
            before = page.nextCursor.flatMap { Int64($0) }
        } while before != nil
        var sent: [MessageDTO] = []
        var position: Int64?
        repeat {
            let page = try messages.messages(MessageFilter(customerID: id.rawValue), limit: 200, before: position)
            sent += page.items.map { MessageDTO($0) }
            position = page.nextCursor.flatMap { Int64($0) }
        } while position != nil
        var history: [ConsentHistoryDTO] = []
        var ledger: Int64?
        repeat {
            let page = try customers.consentHistory(of: id, limit: 200, before: ledger)
            history += page.items.map(ConsentHistoryDTO.init)
            ledger = page.nextCursor.flatMap { Int64($0) }
        } while ledger != nil
        var timeline: [TimelineEntryDTO] = []
        var cursor: TimelineEntry.Cursor?
        repeat {
            let page = try customers.timeline(of: id, limit: 200, cursor: cursor)
            timeline += page.items.map(TimelineEntryDTO.init)
            cursor = page.next
        } while cursor != nil
        return CustomerExportDTO(customer: try dto(customer, for: principal), orders: orders, carts: try customers.carts(of: id), messages: sent,
                                 consentHistory: history, timeline: timeline)
    }

    /// `text/csv`, one row per customer in `filter` (every customer without one), read and written a
    /// page at a time so that an export of a million customers holds one page in memory.
    private func csvExport(filter: SegmentFilter?) throws -> HTTPServerResponse {
        let segments = segments
        let currency = customers.currency.code
        return HTTPServerResponse(
            status: .ok,
            headerFields: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"customers.csv\""],
            body: .stream { writer in
                try await writer.write(Array((CustomerCSV.header + "\r\n").utf8))
                var after: Int64 = 0
                while true {
                    let rows = try segments.exportRows(filter, after: after, limit: Self.exportPage)
                    guard let last = rows.last else { return }
                    var text = ""
                    for row in rows { text += CustomerCSV.line(row, currency: currency) }
                    try await writer.write(Array(text.utf8))
                    after = last.position
                    if rows.count < Self.exportPage { return }
                }
            })
    }

    static func channel(_ raw: String) throws(ValidationError) -> ConsentChannel {
        guard let channel = ConsentChannel(rawValue: raw) else { throw ValidationError(field: "channel", detail: "must be email, sms or push") }
        return channel
    }

    /// `?cursor=`: a position from an earlier page (400 otherwise).
    static func cursor(_ request: HTTPServerRequest) throws(APIError) -> Int64? {
        guard let raw = request.queryParameters["cursor"] else { return nil }
        guard raw.utf8.count <= 18, let position = Int64(raw), position > 0 else { throw .invalidRequest(detail: "cursor is not valid.") }
        return position
    }

    static let noteIsForAdmins = ValidationError(field: "note", detail: "is the staff's: only an admin key writes it")
}

/// Customers as CSV rows (RFC 4180): a field with a comma, quote or line break is quoted, quotes doubled.
enum CustomerCSV {
    static let header = "id,email,phone,first_name,last_name,tags,orders_count,total_spent,currency,last_order_at,created_at"

    static func line(_ row: CustomerExportRow, currency: String) -> String {
        [row.id, row.email ?? "", row.phone ?? "", row.firstName ?? "", row.lastName ?? "", row.tags.joined(separator: ";"),
         String(row.ordersCount), String(row.totalSpent), currency, row.lastOrderAt ?? "", row.createdAt]
            .map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// `POST /v1/customers` and `PATCH /v1/customers/{id}` body.
struct CustomerBody: Decodable {
    var email: String?
    var phone: String?
    var firstName: String?
    var lastName: String?
    var tags: [String]?
    var note: String?
    var locale: String?
    var timezone: String?
    var addresses: [Address]?

    /// The fields given. With `clearing` (a `PATCH`), a member sent as `null` clears it; otherwise
    /// `null` counts as absent.
    func fields(_ document: JSONValue, clearing: Bool) -> CustomerService.Fields {
        func member(_ value: String?, _ name: String) -> String?? {
            if let value { return .some(value) }
            return clearing && document.hasNullMember(name) ? .some(nil) : nil
        }
        return CustomerService.Fields(
            email: member(email, "email"), phone: member(phone, "phone"), firstName: member(firstName, "first_name"),
            lastName: member(lastName, "last_name"), tags: tags, note: member(note, "note"), locale: member(locale, "locale"),
            timezone: member(timezone, "timezone"), addresses: addresses)
    }
}

/// `POST /v1/customers/{id}/merge` body.
private struct MergeBody: Decodable {
    var from: String
}

/// `PUT /v1/customers/{id}/consent/{channel}` body.
struct ConsentBody: Decodable {
    var state: Consent.State
    var level: Consent.Level?
    var source: String?
}
