import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport
import Synchronization

/// Fans the event log out to WebSocket subscribers by topic.
///
/// The log calls ``publish(_:)`` once each commit is on disk (on the writer's flusher thread), in `seq` order. An event is
/// encoded once and handed to every subscriber of its topic or its topic's family with one hop per
/// event loop; the topic index is a dictionary, so publishing never scans connections.
///
/// Resume without gap or duplicate: a subscription with `since` first reads the log from `since` up
/// to what the hub has had, at the pace the connection takes it (``WebSocket/sendWhenReady(_:)``),
/// holding nothing. Once a read comes back short it is indexed, buffering live events, at a mark
/// (the last `seq` published); the log up to the mark is read and sent, then the buffered events
/// after the mark. Anything published by the mark is in the reads; anything after it is buffered.
/// So a replay of any length holds only what arrives during its last short read, and a connection
/// that cannot keep up is closed with 1008 rather than buffered for. (A connection that follows
/// other topics already is indexed at once, holding their live events through the whole replay up
/// to ``maxHeld``, so its events keep their order.)
final class EventHub: Sendable {
    private struct Subscriber {
        let socket: WebSocket
        /// Topics, each with the `seq` after which the connection has had every one of its events.
        var topics: [String: Int64] = [:]
        /// Live events held back while a replay runs, or `nil` when delivering directly.
        var held: [Event]?
        /// Which orders' events it hears: a till's connection, only those of the orders it may see.
        var visibility: OrderVisibility = .all
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var index: [String: Set<UInt64>] = [:]
        /// The last `seq` published: where a subscription without `since` starts.
        var lastSeq: Int64 = 0
    }

    /// Live events one subscriber may have held back during its replay before it counts as too far behind.
    static let maxHeld = 10_000
    /// Events read from the log per query while replaying: a page is held while it is sent, so a
    /// replay waiting on its connection holds at most this many events (a product's can be 10 KB).
    static let replayPage = 64

    private let log: EventLog
    private let state: Mutex<State>

    init(log: EventLog) {
        self.log = log
        state = Mutex(State(lastSeq: log.publishedSeq))
        _ = log.subscribe { [weak self] event in self?.publish(event) }
    }

    /// Subscribes `socket` to `topics`. Without `since`, live events follow the `subscribed` reply;
    /// with it, every logged event after `since` on those topics comes first, then the reply.
    ///
    /// `visibility` narrows the order events the connection hears (``OrderVisibility``): a till
    /// following `orders` hears its own location's.
    func subscribe(_ socket: WebSocket, topics: [String], since: Int64?, visibility: OrderVisibility = .all) async throws(EventChannelError) {
        guard let since else {
            state.withLock { state in
                _ = add(socket, topics: topics, from: state.lastSeq, holding: false, visibility: visibility, in: &state)
                socket.send(EventChannelReply.subscribed(topics: topics, seq: state.lastSeq))
            }
            return
        }
        let oldest: Int64?
        do { oldest = try log.oldestSeq() } catch { throw .unavailable }
        if since < (oldest.map { $0 - 1 } ?? log.publishedSeq) { throw .resumeTooOld(oldest: oldest) }
        // A `since` beyond the log (a client from before a reset) counts from the log's end, so the
        // seq it hears back is one the log has.
        let start = min(since, log.publishedSeq)
        // Events of topics the connection already follows went out live: replaying them would repeat them.
        let before = state.withLock { $0.subscribers[socket.id]?.topics ?? [:] }
        let replayed = { (event: Event) in
            topics.contains(where: event.matches) && !before.contains { event.matches($0.key) && event.seq > $0.value }
                && Self.isVisible(event, to: visibility)
        }
        var cursor = start
        do {
            // Catching up, holding nothing, when nothing else goes to the connection meanwhile: the
            // connection's pace sets the reads'. (One that follows topics already holds their live
            // events from the start, so what it gets stays in `seq` order.)
            if before.isEmpty {
                cursor = try await replay(topics, to: socket, from: cursor, through: { state.withLock { $0.lastSeq } }, replayed)
            }
            // Caught up to within a short read: indexed from here on, the rest up to the mark read.
            let mark = state.withLock { state in
                _ = add(socket, topics: topics, from: start, holding: true, visibility: visibility, in: &state)
                return state.lastSeq
            }
            cursor = try await replay(topics, to: socket, from: cursor, through: { mark }, replayed)
        } catch {
            state.withLock { state in
                state.subscribers[socket.id]?.held = nil
                // What this subscribe added goes again, so a retry replays it rather than miss it.
                for topic in topics where before[topic] == nil { remove(topic, of: socket.id, in: &state) }
            }
            throw .unavailable
        }
        state.withLock { state in
            guard let held = state.subscribers[socket.id]?.held else { return }
            state.subscribers[socket.id]?.held = nil
            socket.send(EventChannelReply.subscribed(topics: topics, seq: cursor))
            for event in held where event.seq > cursor || !replayed(event) {
                socket.send(OutboundWebSocketMessage(.text(EventDTO.encode(event))))
            }
        }
    }

    /// Sends the logged events after `cursor` up to `through()` (read again for each page) that
    /// `replayed` keeps, waiting for the connection's room; the last `seq` read.
    private func replay(_ topics: [String], to socket: WebSocket, from start: Int64, through: () -> Int64,
                        _ replayed: (Event) -> Bool) async throws -> Int64 {
        var cursor = start
        while true {
            // Only what this hub has had: anything later comes to it live, so an event committed but
            // not yet published is not replayed now and sent again live.
            let page = try log.read(since: cursor, through: through(), topics: topics, limit: Self.replayPage)
            for event in page where replayed(event) {
                try await socket.sendWhenReady(OutboundWebSocketMessage(.text(EventDTO.encode(event))))
            }
            cursor = page.last?.seq ?? cursor
            if page.count < Self.replayPage { return cursor }
        }
    }

    func unsubscribe(_ socket: WebSocket, topics: [String]) {
        state.withLock { state in
            for topic in topics { remove(topic, of: socket.id, in: &state) }
        }
    }

    private func remove(_ topic: String, of id: UInt64, in state: inout State) {
        state.subscribers[id]?.topics[topic] = nil
        state.index[topic]?.remove(id)
        if state.index[topic]?.isEmpty == true { state.index[topic] = nil }
    }

    /// Sends `message` to every subscriber of `topic` now, outside the log (the `stats` topic's
    /// current values): no seq, no replay.
    func broadcast(_ message: OutboundWebSocketMessage, to topic: String) {
        let targets = state.withLock { state in
            (state.index[topic] ?? []).compactMap { id in state.subscribers[id].flatMap { $0.held == nil ? $0.socket : nil } }
        }
        if !targets.isEmpty { WebSocket.broadcast(message, to: targets) }
    }

    /// Forgets a closed connection.
    func remove(_ socket: WebSocket) {
        state.withLock { state in
            guard let subscriber = state.subscribers.removeValue(forKey: socket.id) else { return }
            for topic in subscriber.topics.keys {
                state.index[topic]?.remove(socket.id)
                if state.index[topic]?.isEmpty == true { state.index[topic] = nil }
            }
        }
    }

    /// Topics `socket` is subscribed to now.
    func topics(of socket: WebSocket) -> Set<String> {
        state.withLock { $0.subscribers[socket.id].map { Set($0.topics.keys) } ?? [] }
    }

    /// Adds `topics` (covered from `seq` on) and returns the topics the connection had before.
    private func add(_ socket: WebSocket, topics: [String], from seq: Int64, holding: Bool, visibility: OrderVisibility,
                     in state: inout State) -> [String: Int64] {
        var subscriber = state.subscribers[socket.id] ?? Subscriber(socket: socket)
        subscriber.visibility = visibility
        let before = subscriber.topics
        for topic in topics where subscriber.topics[topic] == nil { subscriber.topics[topic] = seq }
        if holding { subscriber.held = subscriber.held ?? [] }
        state.subscribers[socket.id] = subscriber
        for topic in topics { state.index[topic, default: []].insert(socket.id) }
        return before
    }

    private func publish(_ event: Event) {
        state.withLock { state in
            state.lastSeq = event.seq
            var ids = state.index[event.topic] ?? []
            if let family = event.family, let more = state.index[family] { ids.formUnion(more) }
            guard !ids.isEmpty else { return }
            var targets: [WebSocket] = []
            targets.reserveCapacity(ids.count)
            // Read once, and only when a till follows this order event.
            var scope: (channel: Cart.Channel, location: String?)??
            for id in ids {
                if let visibility = state.subscribers[id]?.visibility, visibility != .all, event.topic.hasPrefix("order:") {
                    if scope == nil { scope = .some(Self.orderScope(of: event)) }
                    guard let known = scope!, visibility.allows(channel: known.channel, location: known.location) else { continue }
                }
                // Through the dictionary, not a copy, so the held array grows in place.
                if let heldCount = state.subscribers[id]?.held?.count {
                    if heldCount < Self.maxHeld {
                        state.subscribers[id]?.held?.append(event)
                    } else if let subscriber = state.subscribers.removeValue(forKey: id) {
                        // Forgotten at once, so the close is asked for once and the hold let go.
                        for topic in subscriber.topics.keys {
                            state.index[topic]?.remove(id)
                            if state.index[topic]?.isEmpty == true { state.index[topic] = nil }
                        }
                        subscriber.socket.closeTooFarBehind()
                    }
                } else if let socket = state.subscribers[id]?.socket {
                    targets.append(socket)
                }
            }
            if !targets.isEmpty {
                WebSocket.broadcast(OutboundWebSocketMessage(.text(EventDTO.encode(event))), to: targets)
            }
        }
    }

    /// Whether a connection of `visibility` hears `event`: everything but the order events of
    /// orders it may not see.
    private static func isVisible(_ event: Event, to visibility: OrderVisibility) -> Bool {
        guard visibility != .all, event.topic.hasPrefix("order:") else { return true }
        guard let scope = orderScope(of: event) else { return false }
        return visibility.allows(channel: scope.channel, location: scope.location)
    }

    /// The channel and till location an order event names (`order.placed`, `order.status_changed`).
    private static func orderScope(of event: Event) -> (channel: Cart.Channel, location: String?)? {
        guard case .object(let members, _)? = try? JSONParser.parse(Array(event.data.utf8)),
              case .string(let raw)? = members["channel"], let channel = Cart.Channel(rawValue: raw) else { return nil }
        if case .string(let location)? = members["location"] { return (channel, location) }
        return (channel, nil)
    }
}
