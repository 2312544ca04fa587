import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// The outbox for admins (`GET /v1/messages`, one message with its attempts, retry by hand) and the
/// templates messages are rendered from.
struct MessageRoutes {
    let messages: MessageService
    let delivery: DeliveryService
    let unsubscribe: UnsubscribeLinks
    let customers: CustomerService

    func register(on router: inout Router) {
        router.on(.get, "/v1/messages") { request, context in
            try context.require(.admin)
            let query = request.queryParameters
            var filter = MessageFilter()
            if let raw = query["channel"] {
                guard let channel = MessageChannel(rawValue: raw) else {
                    throw APIError.invalidRequest(detail: "channel must be one of \(MessageChannel.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                filter.channel = channel
            }
            if let raw = query["status"] {
                guard let status = MessageStatus(rawValue: raw) else {
                    throw APIError.invalidRequest(detail: "status must be one of \(MessageStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                filter.status = status
            }
            for name in ["customer", "order"] where (query[name]?.utf8.count ?? 0) > 100 {
                throw APIError.invalidRequest(detail: "\(name) must be an id of at most 100 characters.")
            }
            filter.customerID = query["customer"]
            filter.orderID = query["order"].map(OrderID.init(rawValue:))
            var before: Int64?
            if let cursor = query["cursor"] {
                guard cursor.utf8.count <= 18, let position = Int64(cursor), position > 0 else { throw APIError.invalidRequest(detail: "cursor is not valid.") }
                before = position
            }
            // `sending` is never stored (it is a queued message with an attempt under way): ask the store
            // for queued ones and keep those being sent.
            let sendingOnly = filter.status == .sending
            if sendingOnly { filter.status = .queued }
            let page = try messages.messages(filter, limit: try request.limit(), before: before)
            let items = page.items.map { MessageDTO($0, sending: delivery.isSending($0.id)) }
            return try JSON.response(Page(items: sendingOnly ? items.filter { $0.status == .sending } : items, nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/messages/{id}") { _, context in
            try context.require(.admin)
            let id = MessageID(rawValue: try context.parameter("id"))
            guard let message = try messages.message(id) else { throw MessageError.notFound(id.rawValue) }
            let attempts = try messages.attempts(of: id).map {
                MessageDetailDTO.Attempt(number: $0.number, at: $0.at, outcome: $0.outcome, detail: $0.detail)
            }
            return try JSON.response(MessageDetailDTO(message: MessageDTO(message, sending: delivery.isSending(id)), deliveryAttempts: attempts))
        }
        router.on(.post, "/v1/messages/{id}/retry") { _, context in
            try context.require(.admin)
            let message = try await messages.retry(MessageID(rawValue: try context.parameter("id")))
            return try JSON.response(MessageDTO(message))
        }
        router.on(.get, "/v1/suppressions") { _, context in
            try context.require(.admin)
            return try JSON.response(SuppressionList(items: try messages.suppressions().map(SuppressionDTO.init)))
        }
        router.on(.delete, "/v1/suppressions/{channel}/{address}") { _, context in
            try context.require(.admin)
            let raw = try context.parameter("channel")
            guard let channel = MessageChannel(rawValue: raw) else {
                throw APIError.invalidRequest(detail: "channel must be one of \(MessageChannel.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            try await messages.unsuppress(try context.parameter("address"), channel: channel)
            return HTTPServerResponse(status: .noContent)
        }
        // RFC 8058: a mail client POSTs `List-Unsubscribe=One-Click` here, with no sign-in and no key;
        // the token is the capability. The shopper's own click on the link is a GET: it shows a page
        // whose button posts the same form, so a link scanner following it changes nothing.
        router.on(.get, "/v1/unsubscribe/{token}") { _, context in
            let token = try context.parameter("token")
            guard let (channel, address) = unsubscribe.subject(of: token) else { throw APIError.notFound(path: "/v1/unsubscribe/…") }
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                      body: .bytes(Array(UnsubscribePage.html(token: token, address: address, channel: channel).utf8)))
        }
        router.on(.post, "/v1/unsubscribe/{token}") { request, context in
            guard let (channel, address) = unsubscribe.subject(of: try context.parameter("token")) else {
                throw APIError.notFound(path: "/v1/unsubscribe/…")
            }
            try await messages.unsubscribe(address, channel: channel) { transaction in
                guard let consent = ConsentChannel(rawValue: channel.rawValue) else { return }
                try customers.unsubscribed(address, channel: consent, source: "unsubscribe_link", in: transaction)
            }
            if (request.head.headerFields[.accept] ?? "").contains("text/html") {
                // The shopper pressed the page's button: a page answers them, not JSON.
                return HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                          body: .bytes(Array(UnsubscribePage.done(address: address).utf8)))
            }
            return try JSON.response(UnsubscribedDTO(address: address, channel: channel))
        }
        router.on(.get, "/v1/templates") { _, context in
            try context.require(.admin)
            return try JSON.response(TemplateList(items: messages.templates.all().map(TemplateDTO.init)))
        }
        router.on(.put, "/v1/templates/{name}") { request, context in
            try context.require(.admin)
            let name = try context.parameter("name")
            guard MessageTemplates.names.contains(name) else { throw MessageError.unknownTemplate(name) }
            let body = try request.decode(TemplateBody.self)
            let saved = try await messages.saveTemplate(
                TemplateText(name: name, locale: body.locale ?? "", subject: body.subject, text: body.text, html: body.html, short: body.short))
            return try JSON.response(TemplateDTO(saved))
        }
    }
}

/// The answer to a one-click unsubscribe.
private struct UnsubscribedDTO: Encodable {
    var address: String
    var channel: MessageChannel
    var unsubscribed = true
}

/// The body of `GET /v1/suppressions`.
private struct SuppressionList: Encodable {
    var items: [SuppressionDTO]
}

/// An address messages no longer go to, and why.
private struct SuppressionDTO: Encodable {
    var address: String
    var channel: MessageChannel
    var reason: String
    var detail: String
    @Nullable var messageID: String?
    var createdAt: String

    init(_ suppression: Suppression) {
        address = suppression.address
        channel = suppression.channel
        reason = suppression.reason
        detail = suppression.detail
        messageID = suppression.messageID?.rawValue
        createdAt = suppression.createdAt
    }
}

/// The body of `GET /v1/templates`.
private struct TemplateList: Encodable {
    var items: [TemplateDTO]
}
