import HTTPTypes
import Logging
import ShopfloorTransport

/// One log line per request: method, path, status, body bytes, duration and request id.
struct AccessLogMiddleware: Middleware {
    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let bytes = if case .bytes(let body) = response.body { "\(body.count)" } else { "stream" }
        let elapsed = ContinuousClock.now - start
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        context.logger.info(
            "\(request.head.method.rawValue) \(request.path) \(response.status.code) \(bytes)B \(Double(micros) / 1000)ms")
        return response
    }
}
