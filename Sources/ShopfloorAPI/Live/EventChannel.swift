import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport
import Synchronization

/// One client of `GET /v1/events/ws`: reads its ops (API.md, Events; Live shoppers) and answers them
/// in order. A storefront's socket is also a ``ShopperConnection``: after `hello` it is one tab of a
/// live visitor, and the shop's messages and offers to that visitor arrive on it.
///
/// Ops run one after another in a chain of short tasks, so a `subscribe` that replays the log is
/// answered before the op sent after it, and an idle connection holds no task at all.
final class EventChannel: WebSocketHandler, ShopperConnection, Sendable {
    /// A client op: `{"op":"auth"|"subscribe"|"unsubscribe"|"ping"|"hello"|"track"|"message"|"accept_offer", …}`.
    private struct Op: Decodable {
        var op: String
        var key: String?
        var topics: [String]?
        var since: Int64?
        var visitor: String?
        var customerToken: String?
        var cart: String?
        var consent: Bool?
        var type: String?
        var text: String?
        var code: String?
    }

    private struct State {
        /// The key from a successful `auth`, or the staff session the upgrade's cookie named: checked
        /// again at each subscribe, so a revoked key or an ended session stops working.
        var credential: Credential?
        var tail: Task<Void, Never>?
        /// Ops chained so far, so the last one can tell it is still the tail.
        var ops: UInt64 = 0
        var closed = false
        /// `track` ops left in this second's allowance, and when it was last topped up.
        var tracks = Double(EventChannel.tracksPerSecond)
        var topped = ContinuousClock.now
    }

    /// Most topics one connection may hold.
    static let maxTopics = 100
    /// Most `track` ops one socket may send in a second (API.md), as a bucket refilled continuously.
    static let tracksPerSecond = 20

    /// What a connection is authenticated by.
    enum Credential {
        case key(String)
        case session(String)
    }

    private let socket: WebSocket
    private let hub: EventHub
    private let keys: APIKeyService
    private let sessions: StaffSessionService
    private let shoppers: ShopperServices
    private let registry: EventChannels?
    /// Narrows a till's order topics to the orders it may see.
    private let access: OrderAccess
    private let state = Mutex(State())

    init(socket: WebSocket, hub: EventHub, keys: APIKeyService, sessions: StaffSessionService, shoppers: ShopperServices,
         access: OrderAccess, session: String? = nil, registry: EventChannels? = nil) {
        self.registry = registry
        self.access = access
        self.socket = socket
        self.hub = hub
        self.keys = keys
        self.sessions = sessions
        state.withLock { $0.credential = session.map(Credential.session) }
        self.shoppers = shoppers
    }

    var connectionID: UInt64 { socket.id }

    func deliver(_ delivery: ShopperDelivery) {
        socket.send(EventChannelReply.delivery(delivery))
    }

    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage) {
        let op: Op
        let data: JSONValue?
        do {
            guard case .text(let bytes) = message else { throw EventChannelError.invalidRequest("Ops are JSON text messages.") }
            // The document is kept for `data`, whose keys are the storefront's own, not members to rename.
            guard let document = try? JSONParser.parse(bytes), let decoded = try? JSONCoding.decode(Op.self, from: document) else {
                throw EventChannelError.invalidRequest("An op is a JSON object such as {\"op\":\"subscribe\",\"topics\":[\"stock\"]}.")
            }
            op = decoded
            if case .object(let members, _) = document { data = members["data"] } else { data = nil }
        } catch {
            return socket.send(EventChannelReply.error(error as? EventChannelError ?? .invalidRequest("Not an op.")))
        }
        // Consent withheld: the storefront's report is dropped unread (API.md).
        if op.consent == false, op.op == "hello" || op.op == "track" { return }
        let allowed = state.withLock { state in
            guard op.op == "track" else { return true }
            let now = ContinuousClock.now
            let rate = Double(Self.tracksPerSecond)
            let elapsed = now - state.topped
            state.topped = now
            state.tracks = min(rate, state.tracks + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            guard state.tracks >= 1 else { return false }
            state.tracks -= 1
            return true
        }
        guard allowed else { return socket.send(EventChannelReply.error(.rateLimited)) }
        state.withLock { state in
            guard !state.closed else { return }
            let previous = state.tail
            state.ops &+= 1
            let number = state.ops
            state.tail = Task { [self] in
                await previous?.value
                do throws(EventChannelError) {
                    try await perform(op, data: data)
                } catch {
                    socket.send(EventChannelReply.error(error))
                }
                // The last op done, the chain is let go: an idle socket of thousands keeps no task.
                self.state.withLock { state in if state.ops == number { state.tail = nil } }
            }
        }
    }

    /// After a key was revoked: a connection whose key or staff session no longer authenticates, and
    /// which holds topics only a key may hold, is closed with 1008, so it hears nothing more of them.
    func credentialRevoked() {
        guard state.withLock({ $0.credential }) != nil, role() == nil else { return }
        state.withLock { $0.credential = nil }
        if hub.topics(of: socket).contains(where: { !Self.isPublic($0) }) {
            socket.close(code: .policyViolation, reason: "credential revoked")
        }
    }

    func webSocketDidClose(_ socket: WebSocket) {
        registry?.remove(self)
        state.withLock { state in
            state.closed = true
            state.tail?.cancel()
            state.tail = nil
        }
        hub.remove(socket)
        shoppers.live.disconnect(socket.id)
    }

    /// The role the connection's key or staff session has now; `nil` without one, or once revoked.
    private func role() -> Role? {
        principal()?.role
    }

    private func principal() -> Principal? {
        switch state.withLock({ $0.credential }) {
        case .key(let key)?: keys.authenticate(key)
        case .session(let token)?: sessions.authenticate(token)?.principal
        case nil: nil
        }
    }

    private func perform(_ op: Op, data: JSONValue?) async throws(EventChannelError) {
        switch op.op {
        case "ping":
            socket.send(EventChannelReply.pong)
        case "auth":
            guard let key = op.key, let principal = keys.authenticate(key) else { throw .unauthorized }
            state.withLock { $0.credential = .key(key) }
            socket.send(EventChannelReply.authenticated(role: principal.role))
        case "subscribe":
            let topics = try validTopics(op.topics)
            let current = hub.topics(of: socket)
            guard current.union(topics).count <= Self.maxTopics else {
                throw .invalidRequest("A connection may hold at most \(Self.maxTopics) topics.")
            }
            if let since = op.since, since < 0 { throw .invalidRequest("since must be a seq of 0 or more.") }
            let principal = principal()
            let role = principal?.role
            let refused = topics.filter { topic in
                Self.isAdminOnly(topic) ? role != .admin : !Self.isPublic(topic) && role != .admin && role != .pos
            }
            guard refused.isEmpty else { throw .forbidden(topics: refused, adminOnly: refused.allSatisfy(Self.isAdminOnly)) }
            let visibility: OrderVisibility
            do { visibility = try principal.map(access.visibility) ?? .all } catch { throw .unavailable }
            try await hub.subscribe(socket, topics: topics, since: op.since, visibility: visibility)
            // The stats are a current value, not a history: a subscriber gets them at once.
            if topics.contains("stats") { socket.send(EventChannelReply.stats(shoppers.live.statsNow(), at: shoppers.live.timestamp)) }
        case "unsubscribe":
            let topics = try validTopics(op.topics)
            hub.unsubscribe(socket, topics: topics)
            socket.send(EventChannelReply.unsubscribed(topics: topics))
        case "hello":
            try await hello(op)
        case "track":
            guard let visitor = shoppers.live.visitor(on: socket.id) else { throw .invalidRequest("Say hello first: {\"op\":\"hello\"}.") }
            guard let type = op.type, let kind = ActivityKind(rawValue: type) else {
                throw .invalidRequest("A track op's type is one of \(ActivityKind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            try await shopperOp {
                try await shoppers.live.track([ReportedActivity(Activity(kind: kind, data: data))], visitor: visitor, connection: socket.id)
            }
        case "message":
            guard let visitor = shoppers.live.visitor(on: socket.id) else { throw .invalidRequest("Say hello first: {\"op\":\"hello\"}.") }
            guard let text = op.text else { throw .invalidRequest("A message op has text.") }
            try await shopperOp { _ = try await shoppers.conversations.reply(text, from: visitor) }
        case "accept_offer":
            guard let visitor = shoppers.live.visitor(on: socket.id) else { throw .invalidRequest("Say hello first: {\"op\":\"hello\"}.") }
            guard let code = op.code, !code.isEmpty, code.count <= 64 else { throw .invalidRequest("An accept_offer op has the offer's code.") }
            try await shopperOp {
                let cart = try await shoppers.conversations.accept(code, by: visitor)
                socket.send(EventChannelReply.offerAccepted(code: code, cart: cart.id.rawValue))
            }
        default:
            throw .invalidRequest("Unknown op \"\(op.op.prefix(40))\": use auth, subscribe, unsubscribe, ping, hello, track, message or accept_offer.")
        }
    }

    /// `hello`: this socket joins its visitor's visit (a new visitor when none or an unknown one is given).
    private func hello(_ op: Op) async throws(EventChannelError) {
        var customer: CustomerID?
        if let token = op.customerToken {
            guard let signedIn = shoppers.auth.authenticate(token) else { throw .unauthorized }
            customer = signedIn
        }
        let requested = op.visitor.flatMap { try? ShopperRoutes.visitor($0) }
        let cart = try op.cart.map { raw throws(EventChannelError) in
            guard raw.hasPrefix("cart_"), raw.utf8.count <= 64 else { throw .invalidRequest("cart must be a cart id (cart_…).") }
            return CartID(rawValue: raw)
        }
        try await shopperOp {
            let visitor = try await shoppers.live.hello(self, visitor: requested, customer: customer, cart: cart)
            socket.send(EventChannelReply.welcome(visitor: visitor.rawValue))
        }
    }

    /// Runs a shopper op, its refusals as the channel's errors.
    private func shopperOp(_ body: () async throws -> Void) async throws(EventChannelError) {
        do {
            try await body()
        } catch let error as ValidationError {
            throw .invalidRequest(error.errors.map { "\($0.field) \($0.detail)" }.joined(separator: "; "))
        } catch let error as ShopperError {
            switch error {
            case .unknownProduct(let id): throw .notFound("No product \(id.prefix(64)).")
            case .noCart: throw .conflict("There is no active cart to apply the offer to: say hello with your cart first.")
            case .offerRejected(let why): throw .offerRejected(why)
            case .unknownVisitor, .notLive, .conversationNotFound: throw .notFound("\(error)")
            }
        } catch let error as CheckoutError {
            throw .offerRejected(Problem(error).detail)
        } catch {
            throw .unavailable
        }
    }

    private func validTopics(_ topics: [String]?) throws(EventChannelError) -> [String] {
        guard let topics, !topics.isEmpty, topics.count <= Self.maxTopics else {
            throw .invalidRequest("topics must be a list of 1 to \(Self.maxTopics) topics.")
        }
        let unknown = topics.filter { !Self.isKnown($0) }
        guard unknown.isEmpty else {
            throw .invalidRequest("Unknown topics: \(unknown.prefix(5).map { String($0.prefix(100)) }.joined(separator: ", ")). "
                + "Topics are stock, stock:<sku>, products, product:<id>, cart:<id>, track:<token>, carts, orders, order:<id>, locations, tasks, "
                + "messages, customers, shoppers, stats, conversations, conversation:<id>, drafts, draft:<id>.")
        }
        var seen: Set<String> = []
        return topics.filter { seen.insert($0).inserted }
    }

    /// Families any client may follow, and the kinds of specific topic (`kind:<id>`) they cover.
    private static let publicFamilies: Set<String> = ["stock", "products"]
    private static let publicKinds: Set<Substring> = ["stock", "product", "cart", "track"]
    private static let restrictedFamilies: Set<String> = ["carts", "orders", "locations", "tasks"]
    private static let restrictedKinds: Set<Substring> = ["order"]
    /// Topics for admin keys alone: the outbox's (its events name customers and orders), customers,
    /// live shoppers, the live stats, conversations, and products not in the shop.
    private static let adminTopics: Set<String> = ["messages", "customers", "shoppers", "stats", "conversations", "drafts"]
    private static let adminKinds: Set<Substring> = ["conversation", "draft"]

    private static func isAdminOnly(_ topic: String) -> Bool {
        if adminTopics.contains(topic) { return true }
        guard let colon = topic.firstIndex(of: ":") else { return false }
        return adminKinds.contains(topic[..<colon])
    }

    private static func isPublic(_ topic: String) -> Bool {
        if publicFamilies.contains(topic) { return true }
        guard let colon = topic.firstIndex(of: ":") else { return false }
        return publicKinds.contains(topic[..<colon])
    }

    private static func isKnown(_ topic: String) -> Bool {
        guard EventRoutes.isValidTopic(topic) else { return false }
        if publicFamilies.contains(topic) || restrictedFamilies.contains(topic) || adminTopics.contains(topic) { return true }
        guard let colon = topic.firstIndex(of: ":"), topic.index(after: colon) < topic.endIndex else { return false }
        let kind = topic[..<colon]
        return publicKinds.contains(kind) || restrictedKinds.contains(kind) || adminKinds.contains(kind)
    }
}
