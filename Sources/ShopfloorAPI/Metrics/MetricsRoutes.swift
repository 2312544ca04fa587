import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// `GET /metrics` in Prometheus text: with an admin key on the API's own address, or without one on
/// the separate `--metrics-listen` address, which only the operator's network should reach.
struct MetricsRoutes {
    let metrics: ServerMetrics
    /// Whether the route asks for an admin key (the API's address) or not (`--metrics-listen`).
    let requiresAdmin: Bool

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func register(on router: inout Router) {
        router.on(.get, "/metrics") { [metrics, requiresAdmin] _, context in
            if requiresAdmin { try context.require(.admin) }
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: Self.contentType, .cacheControl: "no-store"],
                                      body: .bytes(metrics.exposition()))
        }
    }
}
