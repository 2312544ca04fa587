import HTTPTypes
import Logging
import ShopfloorTransport

/// Turns every thrown error into its problem+json response (see ``Problem``). Unknown errors are
/// logged with the request id and answered 500 with nothing internal in the body.
struct ProblemMiddleware: Middleware {
    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        do {
            return try await next(request, context)
        } catch {
            return Self.answer(error, logger: context.logger)
        }
    }

    /// Out of line to keep `handle`'s frame small (``Middleware``).
    @inline(never)
    private static func answer(_ error: any Error, logger: Logger) -> HTTPServerResponse {
        let problem = Problem(error)
        if problem.status >= 500 && problem.code == "internal_error" {
            logger.error("unhandled error: \(String(reflecting: error))")
        }
        return problem.response()
    }
}
