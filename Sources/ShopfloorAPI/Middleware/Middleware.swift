public import ShopfloorTransport

/// A step around every request: it may read or change the request and context, call `next`, and
/// read or change the response. Middleware is composed once, at start, into one chain.
///
/// Keep `handle` thin, its other work in synchronous functions that are not inlined: an async
/// function's locals live in a frame the task allocator gives it, a 1 KiB slab `malloc`ed per request
/// for each frame that does not fit the last, while a synchronous call's live on the thread's stack.
public protocol Middleware: Sendable {
    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse
}

extension Array where Element == any Middleware {
    /// The chain that runs these middleware outermost first, then `handler`.
    func chain(to handler: @escaping RequestHandler) -> RequestHandler {
        reversed().reduce(handler) { next, middleware in
            { request, context in try await middleware.handle(request, context: context, next: next) }
        }
    }
}
