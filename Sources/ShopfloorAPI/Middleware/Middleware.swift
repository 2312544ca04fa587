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
    /// The chain that runs these middleware outermost first, then `handler`. Built in a loop over a
    /// `RequestHandler` variable rather than with `reduce`: a closure passed through a generic is
    /// re-abstracted, and every request then called two thunks more at each step.
    func chain(to handler: @escaping RequestHandler) -> RequestHandler {
        var next = handler
        for middleware in reversed() {
            let inner = next
            next = { request, context in try await middleware.handle(request, context: context, next: inner) }
        }
        return next
    }
}
