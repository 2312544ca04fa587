import HTTPTypes
import Logging
import ShopfloorTransport

/// The API as the transport sees it: middleware and router behind ``HTTPResponder``.
struct APIResponder: HTTPResponder {
    private let handler: RequestHandler
    private let logger: Logger

    private let router: Router

    init(router: Router, middleware: [any Middleware], logger: Logger) {
        self.logger = logger
        self.router = router
        handler = middleware.chain { request, context in
            switch context.match {
            case .handler(let handler, _, _)?:
                return try await handler(request, context)
            case .methodNotAllowed(let allowed)?:
                throw APIError.methodNotAllowed(allowed: allowed)
            case .notFound?, nil:
                throw APIError.notFound(path: String(request.path))
            }
        }
    }

    /// The route is found before the middleware runs, so they know it (metrics count by its pattern).
    func respond(to request: HTTPServerRequest) async -> HTTPServerResponse {
        var context = RequestContext(logger: logger)
        let match = router.match(request.head.method, path: request.path)
        if case .handler(_, let parameters, let route) = match {
            context.parameters = parameters
            context.route = route
        }
        context.match = match
        do {
            return try await handler(request, context)
        } catch {
            var response = Problem(error).response()
            response.headerFields[.cacheControl] = "no-store"
            return response
        }
    }

    func errorResponse(for error: HTTPTransportError) -> HTTPServerResponse {
        var response = Problem(error).response()
        response.headerFields[RequestIDMiddleware.field] = RequestIDMiddleware.make()
        response.headerFields[.cacheControl] = "no-store"
        return response
    }
}
