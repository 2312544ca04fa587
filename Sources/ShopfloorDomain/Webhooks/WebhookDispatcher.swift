public import Logging
import Synchronization

/// Turns the event log into webhook deliveries: every event an enabled endpoint wants becomes one
/// delivery to it, in the same transaction that moves the dispatcher's mark past the event.
///
/// The event log is the outbox here: an event is durable with the change that caused it, and the
/// mark is durable with the deliveries made from it, so after a crash the dispatcher carries on from
/// the mark and no event is lost or turned into deliveries twice (a delivery for an endpoint and an
/// event is stored once). With no endpoint enabled it moves its mark in memory only and writes
/// nothing: an endpoint hears of events from its creation on (``WebhookEndpoint/startSeq``).
///
/// It would wake after every published batch of events, so what that costs with no endpoint matters to
/// every write: with none enabled it is not woken at all (a flag the event bus's handler reads), and
/// the endpoints are kept in memory, read again only after ``endpointsChanged()``.
public final class WebhookDispatcher: Sendable {
    private let store: any WebhookStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let clock: any WallClock
    private let logger: Logger
    private let mark: Mutex<Int64>
    /// The endpoints as last read (`nil` once they changed), and how many changes there have been, so
    /// a read that a change overtook is not kept.
    private let cachedEndpoints = Mutex<(endpoints: [WebhookEndpoint]?, changes: Int)>((nil, 0))
    /// Whether any endpoint may be enabled: published events wake the dispatcher only then. Set on
    /// every change (the next pass reads the endpoints and clears it if none is enabled).
    private let active = Atomic<Bool>(true)
    private let wakeups = Wakeups()

    /// Events read and turned into deliveries in one transaction.
    static let batchSize = 500

    public init(stores: Stores, events: EventLog, clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "shopfloor.webhooks")) throws {
        store = stores.webhooks
        writer = stores.writer
        self.events = events
        self.clock = clock
        self.logger = logger
        mark = Mutex(try stores.webhooks.dispatchedSeq())
    }

    /// Dispatches until cancelled, a pass after every published batch of events.
    public func run() async {
        await wakeups.run(following: events, whenever: { [self] in active.load(ordering: .relaxed) }) { [self] in
            do {
                try await dispatchPending()
            } catch {
                logger.error("dispatching webhooks failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Makes the deliveries for every event published so far: the dispatcher's step, for tests.
    public func dispatchPending() async throws {
        while true {
            let endpoints = try enabledEndpoints()
            let published = events.publishedSeq
            guard let earliest = endpoints.map(\.startSeq).min() else {
                mark.withLock { $0 = max($0, published) }
                return
            }
            let from = max(mark.withLock { $0 }, earliest)
            let batch = try events.read(since: from, through: published, topics: [], limit: Self.batchSize)
            guard let last = batch.last else {
                mark.withLock { $0 = max($0, published) }
                return
            }
            let stamp = clock.timestamp
            let now = clock.milliseconds
            var deliveries: [WebhookDelivery] = []
            for event in batch where Self.isForIntegrators(event) {
                for endpoint in endpoints where event.seq > endpoint.startSeq && endpoint.wants(event.type) {
                    deliveries.append(WebhookDelivery(
                        id: .make(), endpointID: endpoint.id, eventSeq: event.seq, eventType: event.type, payload: Self.payload(of: event),
                        status: .pending, attempts: 0, nextAttemptAtMilliseconds: now, lastStatusCode: nil, lastError: nil,
                        createdAt: stamp, updatedAt: stamp))
                }
            }
            let made = deliveries
            try await writer.write { transaction in
                for delivery in made { try self.store.insert(delivery, in: transaction) }
                try self.store.setDispatchedSeq(last.seq, in: transaction)
                if !made.isEmpty { transaction.transactionNotes.append(WebhookQueued()) }
            }
            mark.withLock { $0 = max($0, last.seq) }
            if batch.count < Self.batchSize { return }
        }
    }

    /// Reads the endpoints again on the next pass: an endpoint was made, changed or removed.
    public func endpointsChanged() {
        cachedEndpoints.withLock { cache in
            cache.endpoints = nil
            cache.changes += 1
        }
        active.store(true, ordering: .relaxed)
        wakeups.wake()
    }

    private func enabledEndpoints() throws -> [WebhookEndpoint] {
        let (cached, changes) = cachedEndpoints.withLock { ($0.endpoints, $0.changes) }
        if let cached { return cached }
        let enabled = try store.endpoints().filter { $0.status == .enabled }
        cachedEndpoints.withLock { cache in
            // A change since the read above wins: its pass reads again.
            guard cache.changes == changes else { return }
            cache.endpoints = enabled
            if enabled.isEmpty { active.store(false, ordering: .relaxed) }
        }
        return enabled
    }

    /// Whether integrators hear of `event`: every event but the tracking page's copies of order events
    /// (topic `track:…`), which repeat an order's news without its ids for the public.
    static func isForIntegrators(_ event: Event) -> Bool {
        !event.topic.hasPrefix("track:")
    }

    /// The delivery's body, Standard Webhooks' shape: the event's type, when it happened, and its data
    /// as the event log holds it (already JSON).
    static func payload(of event: Event) -> String {
        #"{"type":"\#(event.type)","timestamp":"\#(event.at)","data":\#(event.data)}"#
    }
}
