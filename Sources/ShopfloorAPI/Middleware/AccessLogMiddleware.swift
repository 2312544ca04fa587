import HTTPTypes
import Logging
import ShopfloorTransport

/// One log line per request: method, path, status, body bytes, duration and request id; the answer
/// logged is the one that goes out, after ``CachePolicy`` (a 304 for a copy still current). The same
/// answer is counted in the metrics, by the route's pattern.
struct AccessLogMiddleware: Middleware {
    let metrics: ServerMetrics?

    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        let start = ContinuousClock.now
        let response = CachePolicy.apply(to: try await next(request, context), for: request)
        Self.log(request, response, ContinuousClock.now - start, context: context, metrics: metrics)
        return response
    }

    /// Out of line to keep `handle`'s frame small (``Middleware``).
    @inline(never)
    private static func log(_ request: HTTPServerRequest, _ response: HTTPServerResponse, _ elapsed: Duration, context: RequestContext,
                            metrics: ServerMetrics?) {
        metrics?.request(method: request.head.method, route: context.route, status: response.status.code, duration: elapsed)
        let logger = context.logger
        // Everything else inside the message, which is only built when `info` is logged.
        logger.info("\(line(request, response, elapsed))")
    }

    private static func line(_ request: HTTPServerRequest, _ response: HTTPServerResponse, _ elapsed: Duration) -> String {
        let bytes = if case .bytes(let body) = response.body { "\(body.count)" } else { "stream" }
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        return "\(request.head.method.rawValue) \(request.path) \(response.status.code) \(bytes)B \(Double(micros) / 1000)ms"
    }
}
