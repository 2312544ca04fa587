import Foundation
import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// Live shoppers (API.md, Live shoppers and the back office): activity without a socket, who is on
/// the shop now, the live stats, and reaching one shopper with a message or an offer; conversations.
struct ShopperRoutes {
    let live: LiveShoppers
    let conversations: ConversationService

    /// Most actions one `POST /v1/activity` carries.
    static let maxBatch = 50

    func register(on router: inout Router) {
        router.on(.post, "/v1/activity") { request, _ in
            let (body, document) = try request.decodeWithDocument(ActivityBatchDTO.self)
            let visitor = try Self.visitor(body.visitor)
            guard (1...Self.maxBatch).contains(body.events.count) else {
                throw ValidationError(field: "events", detail: "must hold 1 to \(Self.maxBatch) actions")
            }
            let actions = try body.events.enumerated().map { index, item in
                guard let kind = ActivityKind(rawValue: item.type) else {
                    throw ValidationError(field: "events[\(index)].type", detail: "must be one of \(ActivityKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let at = try item.at.map { text in
                    guard let date = Timestamp.date(text) else { throw ValidationError(field: "events[\(index)].at", detail: "must be an RFC 3339 time") }
                    return date
                }
                return ReportedActivity(try Activity(kind: kind, data: Self.data(of: index, in: document), field: "events[\(index)].data"), at: at)
            }
            if body.consent == false {
                guard try live.exists(visitor) else { throw ShopperError.unknownVisitor(visitor.rawValue) }
                return try JSON.response(Accepted(accepted: 0), status: .accepted)
            }
            try await live.track(actions, visitor: visitor, connection: nil)
            return try JSON.response(Accepted(accepted: actions.count), status: .accepted)
        }
        router.on(.get, "/v1/shoppers/live") { _, context in
            try context.require(.admin)
            let (items, seq) = live.snapshot()
            var body: [UInt8] = []
            body.reserveCapacity(items.reduce(32) { $0 + $1.utf8.count + 1 })
            body.append(contentsOf: #"{"items":["#.utf8)
            for (index, item) in items.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: item.utf8)
            }
            body.append(contentsOf: #"],"seq":\#(seq)}"#.utf8)
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"], body: .bytes(body))
        }
        router.on(.get, "/v1/stats/live") { _, context in
            try context.require(.admin)
            return try JSON.response(live.statsNow())
        }
        router.on(.post, "/v1/shoppers/{visitor}/messages") { request, context in
            let principal = try context.require(.admin)
            let body = try request.decode(ShopperMessageDTO.self)
            let (conversation, message) = try await conversations.send(
                body.text, to: try Self.visitor(try context.parameter("visitor")), author: principal.keyID.rawValue)
            return try JSON.response(MessageSentDTO(conversation: conversation.rawValue, message: ConversationMessageDTO(message)), status: .created)
        }
        router.on(.post, "/v1/shoppers/{visitor}/offers") { request, context in
            let principal = try context.require(.admin)
            let body = try request.decode(NewOfferDTO.self)
            let (conversation, offer) = try await conversations.offer(
                try body.offer(), to: try Self.visitor(try context.parameter("visitor")), author: principal.keyID.rawValue)
            return try JSON.response(OfferMadeDTO(conversation: conversation.rawValue, offer: OfferDTO(offer)), status: .created)
        }
        router.on(.get, "/v1/conversations") { request, context in
            try context.require(.admin)
            let page = try conversations.conversations(limit: try request.limit(), before: try CustomerRoutes.cursor(request))
            return try JSON.response(Page(items: page.items.map { ConversationDTO($0, full: false) }, nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/conversations/{id}") { _, context in
            try context.require(.admin)
            let conversation = try conversations.conversation(ConversationID(rawValue: try context.parameter("id")))
            return try JSON.response(ConversationDTO(conversation, full: true))
        }
    }

    /// The `data` of action `index` as the storefront wrote it (its keys are not members to rename).
    private static func data(of index: Int, in document: JSONValue) -> JSONValue? {
        guard case .object(let members, _) = document, case .array(let events)? = members["events"], index < events.count,
              case .object(let item, _) = events[index] else { return nil }
        return item["data"]
    }

    /// A visitor id from a path or body: one this server could have made.
    static func visitor(_ raw: String) throws -> VisitorID {
        guard raw.hasPrefix("vis_"), (5...64).contains(raw.utf8.count),
              raw.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) })
        else { throw ShopperError.unknownVisitor(String(raw.prefix(64))) }
        return VisitorID(rawValue: raw)
    }
}

/// `POST /v1/activity` answer.
private struct Accepted: Encodable {
    var accepted: Int
}
