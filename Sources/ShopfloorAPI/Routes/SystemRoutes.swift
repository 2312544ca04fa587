import HTTPTypes
import ShopfloorTransport

/// Liveness, readiness and the OpenAPI description.
struct SystemRoutes {
    let lifecycle: Lifecycle

    private static let healthBody = Array(#"{"status":"ok"}"#.utf8)
    private static let readyBody = Array(#"{"status":"ready"}"#.utf8)
    private static let spec = Array(openAPISpec.utf8)

    func register(on router: inout Router) {
        router.on(.get, "/health") { _, _ in
            HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"], body: .bytes(Self.healthBody))
        }
        router.on(.get, "/ready") { [lifecycle] _, _ in
            switch lifecycle.state {
            case .ready:
                return HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"], body: .bytes(Self.readyBody))
            case .starting:
                throw APIError.unavailable(detail: "The server is starting.")
            case .draining:
                throw APIError.unavailable(detail: "The server is shutting down.")
            }
        }
        router.on(.get, "/openapi.yaml") { _, _ in
            HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/yaml"], body: .bytes(Self.spec))
        }
    }
}
