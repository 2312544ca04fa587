import HTTPTypes
import Logging
import ShopfloorTransport

/// The API as the transport sees it: middleware and router behind ``HTTPResponder``.
struct APIResponder: HTTPResponder {
    private let handler: RequestHandler
    private let logger: Logger

    init(router: Router, middleware: [any Middleware], logger: Logger) {
        self.logger = logger
        handler = middleware.chain { request, context in
            switch router.match(request.head.method, path: request.path) {
            case .handler(let handler, let parameters):
                var context = context
                context.parameters = parameters
                return try await handler(request, context)
            case .methodNotAllowed(let allowed):
                throw APIError.methodNotAllowed(allowed: allowed)
            case .notFound:
                throw APIError.notFound(path: String(request.path))
            }
        }
    }

    func respond(to request: HTTPServerRequest) async -> HTTPServerResponse {
        do {
            return try await handler(request, RequestContext(logger: logger))
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
