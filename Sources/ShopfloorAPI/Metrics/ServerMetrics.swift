import CoreMetrics
import Foundation
import HTTPTypes
import Prometheus
import ShopfloorStorage
import Synchronization

/// The server's metrics, through the swift-metrics API into a Prometheus registry of its own (no
/// global bootstrap, so every server in a process, a test's included, counts apart).
///
/// Counted as they happen: requests by method, route pattern and status, with their latency; the
/// rate limits' refusals; the writer's batches (jobs and time to disk). Read when scraped
/// (``Sample``): open connections and WebSockets, slow WebSockets closed, the WAL's size, and the
/// carts holding stock with their units.
final class ServerMetrics: WriterObserver {
    /// What is read at each scrape.
    struct Sample: Sendable {
        var connections = 0
        var webSockets = 0
        var slowConsumerCloses = 0
        var walBytes: Int64 = 0
        var reservingCarts = 0
        var reservedUnits = 0
    }

    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// Reads the sampled values; set once the HTTP server exists (``sample(with:)``).
    private let sampler = Mutex<(@Sendable () -> Sample)?>(nil)
    /// The slow-consumer closes already counted, so the counter moves by what happened since.
    private let slowClosesCounted = Mutex(0)
    /// Each request's instruments, made once per method, route and status: making one looks it up in
    /// the registry under its lock and cleans its name, several microseconds a request (`bench/ab.sh`).
    /// Keyed by route number, method and status packed in one integer, cheap to hash.
    private let requestInstruments = Mutex<[Int: (count: CoreMetrics.Counter, latency: Recorder)]>([:])
    private let batchJobs: Recorder
    private let commitLatency: Recorder

    /// Methods kept as a label, by their place in the key; any other token counts as `other`, so a
    /// client cannot make labels up.
    private static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Latencies are value histograms of seconds (`Recorder`), not swift-metrics' `Timer`: its
        // `Duration` buckets cost the flusher 10 µs a batch in generic `Duration` arithmetic (perf).
        factory.valueHistogramBuckets["shopfloor_http_request_duration_seconds"] = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
        ]
        factory.valueHistogramBuckets["shopfloor_writer_batch_jobs"] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        factory.valueHistogramBuckets["shopfloor_writer_commit_seconds"] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
        self.factory = factory
        batchJobs = Recorder(label: "shopfloor_writer_batch_jobs", factory: factory)
        commitLatency = Recorder(label: "shopfloor_writer_commit_seconds", factory: factory)
    }

    /// Sets how the values read at each scrape are read.
    func sample(with sampler: @escaping @Sendable () -> Sample) {
        self.sampler.withLock { $0 = sampler }
    }

    /// One answered request: `route` is the route it matched, `nil` for none (counted as `unmatched`).
    func request(method: HTTPRequest.Method, route: Router.Route?, status: Int, duration: Duration) {
        let methodIndex = Self.methods.firstIndex(of: method) ?? Self.methods.count
        let key = ((route?.number ?? -1) + 1) << 24 | methodIndex << 16 | (status & 0xFFFF)
        let instruments = requestInstruments.withLock { made in
            if let instruments = made[key] { return instruments }
            let methodLabel = methodIndex < Self.methods.count ? method.rawValue : "other"
            let routeLabel = route?.pattern ?? "unmatched"
            let instruments = (
                CoreMetrics.Counter(label: "shopfloor_http_requests_total",
                                    dimensions: [("method", methodLabel), ("route", routeLabel), ("status", String(status))], factory: factory),
                Recorder(label: "shopfloor_http_request_duration_seconds", dimensions: [("method", methodLabel), ("route", routeLabel)],
                         factory: factory))
            made[key] = instruments
            return instruments
        }
        instruments.count.increment()
        instruments.latency.record(Self.seconds(duration))
    }

    /// A request refused by a rate limit (`address`, `key`, `sensitive`, …).
    func rateLimited(_ limit: String) {
        Counter(label: "shopfloor_rate_limited_total", dimensions: [("limit", limit)], factory: factory).increment()
    }

    /// One committed write batch.
    func batchCommitted(jobs: Int, latency: Duration) {
        batchJobs.record(jobs)
        commitLatency.record(Self.seconds(latency))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// The Prometheus text exposition (format 0.0.4), with the sampled values brought up to date.
    func exposition() -> [UInt8] {
        let sample = sampler.withLock { $0 }?() ?? Sample()
        Gauge(label: "shopfloor_open_connections", factory: factory).record(sample.connections)
        Gauge(label: "shopfloor_open_websockets", factory: factory).record(sample.webSockets)
        Gauge(label: "shopfloor_wal_bytes", factory: factory).record(sample.walBytes)
        Gauge(label: "shopfloor_reserving_carts", factory: factory).record(sample.reservingCarts)
        Gauge(label: "shopfloor_reserved_units", factory: factory).record(sample.reservedUnits)
        let newCloses = slowClosesCounted.withLock { counted in
            defer { counted = max(counted, sample.slowConsumerCloses) }
            return max(0, sample.slowConsumerCloses - counted)
        }
        Counter(label: "shopfloor_websocket_slow_closes_total", factory: factory).increment(by: newCloses)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
