import HTTPTypes
import ShopfloorTransport

/// `POST /v1/echo`, served only with `--enable-echo`: returns the body as sent, optionally after
/// `delay_ms`, so conformance and lifecycle tests can exercise the transport through a real route.
struct EchoRoutes {
    static let maxDelay = 10_000

    func register(on router: inout Router) {
        router.on(.post, "/v1/echo") { request, _ in
            if let raw = QueryParameters(request.query)["delay_ms"] {
                guard let delay = Int(raw), (0...Self.maxDelay).contains(delay) else {
                    throw APIError.invalidRequest(detail: "delay_ms must be an integer from 0 to \(Self.maxDelay).")
                }
                try await Task.sleep(for: .milliseconds(delay))
            }
            let type = request.head.headerFields[.contentType] ?? "application/octet-stream"
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: type], body: .bytes(request.body))
        }
    }
}
