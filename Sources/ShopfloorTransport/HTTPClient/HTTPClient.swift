/// An HTTP/1.1 client for outbound calls (webhooks, SMS gateways, Web Push), with keep-alive
/// connections shared per origin.
///
/// Requests run on the client's own threads (``HTTPClientConfiguration/maxConcurrentRequests`` of
/// them, fed in order from one queue), never on Swift's cooperative pool: each blocks on the network,
/// bounded by a connect timeout, a read timeout between bytes and a total timeout. ``execute(_:)``
/// suspends the calling task until its request's thread resumes it.
///
/// What it does not do, on purpose: follow redirects (a 3xx is returned), send chunked bodies, pipeline,
/// decompress, or keep cookies. Every resolved address is vetted by
/// ``HTTPClientConfiguration/addressPolicy`` before it is connected to. A reused connection that turns
/// out to have been closed while idle gets the request again on a fresh one, once, so a receiver may
/// see a request twice: callers deliver at least once and receivers de-duplicate. Responses are read
/// whole; a body past the limit is cut short, never buffered.
///
/// Call ``shutdown()`` when done; a client dropped without it closes its idle connections and ends
/// its threads all the same, without waiting for them.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let threads: HTTPClientThreads
    private let pool: HTTPConnectionPool
    private let exchange: HTTPExchange

    /// Starts the client's threads.
    ///
    /// - Throws: making a TLS context with the system's roots failed, when the configuration has none.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) throws(TLSError) {
        self.configuration = configuration
        let pool = HTTPConnectionPool(
            maxIdlePerOrigin: configuration.maxIdleConnectionsPerOrigin, lifetime: configuration.idleConnectionLifetime)
        self.pool = pool
        let tlsContext: TLSClientContext
        if let configured = configuration.tlsContext {
            tlsContext = configured
        } else {
            tlsContext = try TLSClientContext()
        }
        exchange = HTTPExchange(configuration: configuration, tlsContext: tlsContext, pool: pool)
        threads = HTTPClientThreads(count: configuration.maxConcurrentRequests, idleInterval: configuration.idleConnectionLifetime) {
            pool.closeExpired(now: .now)
        }
    }

    deinit {
        pool.close()
        threads.stop()
    }

    /// Sends `request` and returns the final response, whatever its status.
    ///
    /// Cancelling the calling task does not stop the request: it runs on to its response or a
    /// deadline, which bound it anyway, and this returns what it got. Breaking off a blocking call on
    /// another thread would need a wake-up channel into every wait, for a gain of at most one timeout.
    public func execute(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let exchange = exchange
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
            let queued = threads.submit { continuation.resume(returning: exchange.run(request)) }
            if !queued { continuation.resume(returning: .failure(.shutDown)) }
        }
        return try result.get()
    }

    /// Closes idle connections, fails new requests and those still queued with
    /// ``HTTPClientError/shutDown``, lets running ones finish (each within its deadline, closing its
    /// connection after), and returns once every thread has ended.
    public func shutdown() async {
        pool.close()
        threads.stop()
        await threads.waitUntilStopped()
    }
}
