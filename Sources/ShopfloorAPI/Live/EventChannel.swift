import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport
import Synchronization

/// One client of `GET /v1/events/ws`: reads its ops (API.md, Events) and answers them in order.
///
/// Ops run one after another in a chain of short tasks, so a `subscribe` that replays the log is
/// answered before the op sent after it, and an idle connection holds no task at all.
final class EventChannel: WebSocketHandler, Sendable {
    /// A client op: `{"op":"auth"|"subscribe"|"unsubscribe"|"ping", …}`.
    private struct Op: Decodable {
        var op: String
        var key: String?
        var topics: [String]?
        var since: Int64?
    }

    private struct State {
        /// The key from a successful `auth`, checked again at each subscribe so a revoked key stops working.
        var key: String?
        var tail: Task<Void, Never>?
        var closed = false
    }

    /// Most topics one connection may hold.
    static let maxTopics = 100

    private let socket: WebSocket
    private let hub: EventHub
    private let keys: APIKeyService
    private let state = Mutex(State())

    init(socket: WebSocket, hub: EventHub, keys: APIKeyService) {
        self.socket = socket
        self.hub = hub
        self.keys = keys
    }

    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage) {
        let op: Op
        do {
            guard case .text(let bytes) = message else { throw EventChannelError.invalidRequest("Ops are JSON text messages.") }
            guard let decoded = try? JSONCoding.decode(Op.self, from: bytes) else {
                throw EventChannelError.invalidRequest("An op is a JSON object such as {\"op\":\"subscribe\",\"topics\":[\"stock\"]}.")
            }
            op = decoded
        } catch {
            return socket.send(EventChannelReply.error(error as? EventChannelError ?? .invalidRequest("Not an op.")))
        }
        state.withLock { state in
            guard !state.closed else { return }
            let previous = state.tail
            state.tail = Task { [self] in
                await previous?.value
                do throws(EventChannelError) {
                    try await perform(op)
                } catch {
                    socket.send(EventChannelReply.error(error))
                }
            }
        }
    }

    func webSocketDidClose(_ socket: WebSocket) {
        state.withLock { state in
            state.closed = true
            state.tail?.cancel()
            state.tail = nil
        }
        hub.remove(socket)
    }

    private func perform(_ op: Op) async throws(EventChannelError) {
        switch op.op {
        case "ping":
            socket.send(EventChannelReply.pong)
        case "auth":
            guard let key = op.key, let principal = keys.authenticate(key) else { throw .unauthorized }
            state.withLock { $0.key = key }
            socket.send(EventChannelReply.authenticated(role: principal.role))
        case "subscribe":
            let topics = try validTopics(op.topics)
            let current = hub.topics(of: socket)
            guard current.union(topics).count <= Self.maxTopics else {
                throw .invalidRequest("A connection may hold at most \(Self.maxTopics) topics.")
            }
            if let since = op.since, since < 0 { throw .invalidRequest("since must be a seq of 0 or more.") }
            let role = state.withLock { $0.key }.flatMap(keys.authenticate)?.role
            let refused = topics.filter { topic in
                Self.adminTopics.contains(topic) ? role != .admin : !Self.isPublic(topic) && role != .admin && role != .pos
            }
            guard refused.isEmpty else { throw .forbidden(topics: refused) }
            try await hub.subscribe(socket, topics: topics, since: op.since)
        case "unsubscribe":
            let topics = try validTopics(op.topics)
            hub.unsubscribe(socket, topics: topics)
            socket.send(EventChannelReply.unsubscribed(topics: topics))
        default:
            throw .invalidRequest("Unknown op \"\(op.op.prefix(40))\": use auth, subscribe, unsubscribe or ping.")
        }
    }

    private func validTopics(_ topics: [String]?) throws(EventChannelError) -> [String] {
        guard let topics, !topics.isEmpty, topics.count <= Self.maxTopics else {
            throw .invalidRequest("topics must be a list of 1 to \(Self.maxTopics) topics.")
        }
        let unknown = topics.filter { !Self.isKnown($0) }
        guard unknown.isEmpty else {
            throw .invalidRequest("Unknown topics: \(unknown.prefix(5).map { String($0.prefix(100)) }.joined(separator: ", ")). "
                + "Topics are stock, stock:<sku>, products, product:<id>, cart:<id>, track:<token>, carts, orders, order:<id>, locations, messages.")
        }
        var seen: Set<String> = []
        return topics.filter { seen.insert($0).inserted }
    }

    /// Families any client may follow, and the kinds of specific topic (`kind:<id>`) they cover.
    private static let publicFamilies: Set<String> = ["stock", "products"]
    private static let publicKinds: Set<Substring> = ["stock", "product", "cart", "track"]
    private static let restrictedFamilies: Set<String> = ["carts", "orders", "locations"]
    private static let restrictedKinds: Set<Substring> = ["order"]
    /// Topics for admin keys alone: the outbox's (its events name customers and orders).
    private static let adminTopics: Set<String> = ["messages"]

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
        return publicKinds.contains(kind) || restrictedKinds.contains(kind)
    }
}
