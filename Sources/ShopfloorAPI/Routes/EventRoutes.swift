import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// The event log over plain HTTP, for admins: `GET /v1/events?since=N&topics=a,b&limit=`.
struct EventRoutes {
    let events: EventLog

    func register(on router: inout Router) {
        router.on(.get, "/v1/events") { request, context in
            try context.require(.admin)
            let parameters = request.queryParameters
            var since: Int64 = 0
            // `cursor` (the previous page's `next_cursor`) is the last seq seen, like `since`.
            for name in ["since", "cursor"] {
                guard let raw = parameters[name] else { continue }
                guard let value = Int64(raw), value >= 0 else { throw APIError.invalidRequest(detail: "\(name) must be a whole number of 0 or more.") }
                since = max(since, value)
            }
            let topics = (parameters["topics"] ?? "").split(separator: ",").map(String.init)
            guard topics.count <= 50, topics.allSatisfy(Self.isValidTopic) else {
                throw APIError.invalidRequest(detail: "topics must be a comma-separated list of up to 50 topics such as stock or stock:SKU-1.")
            }
            let limit = try request.limit()
            let page = try events.read(since: since, topics: topics, limit: limit + 1)
            let items = Array(page.prefix(limit))
            let next = page.count > limit ? items.last.map { String($0.seq) } : nil
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"], body: .bytes(EventDTO.page(items, nextCursor: next)))
        }
    }

    /// Letters, digits and `:._-`, at most 100 characters.
    static func isValidTopic(_ topic: String) -> Bool {
        (1...100).contains(topic.utf8.count) && topic.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || ":._-".utf8.contains(byte)
        }
    }
}
