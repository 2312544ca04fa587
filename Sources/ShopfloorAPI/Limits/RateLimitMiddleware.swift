import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Resolves the client's address (``ClientAddressResolver``) into the context, then admits the
/// request or answers 429 `rate_limited` with `Retry-After`.
///
/// Staff (an admin or pos key, or a staff session) draw on their key's bucket: a till or an
/// integration is one caller wherever it connects from. Everyone else, anonymous, a storefront key
/// (public, in every shopper's browser) or a signed-in shopper, draws on their address's bucket. The
/// sensitive routes, where a guess is worth something (sign-in codes, staff sign-in, handover PINs,
/// payment webhooks), also draw on a much smaller bucket per address.
///
/// Runs after ``AuthMiddleware``, which needs the caller; a refused credential is answered 401 there
/// for the price of one hash, without touching a bucket.
struct RateLimitMiddleware: Middleware {
    let resolver: ClientAddressResolver
    let addresses: RateLimiter?
    let keys: RateLimiter?
    let sensitive: RateLimiter?
    let metrics: ServerMetrics?

    /// POST routes that also draw on the sensitive bucket.
    static let sensitivePaths: Set<Substring> = ["/v1/auth/code", "/v1/auth/session", "/v1/sessions", "/v1/pos/handover", "/v1/payments/webhook"]

    /// Probes a balancer or an orchestrator sends as often as it likes: never refused.
    static let probes: Set<Substring> = ["/health", "/ready"]

    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        var context = context
        context.clientAddress = resolver.client(of: request)
        if !Self.probes.contains(request.path) {
            do {
                try admit(request, context)
            } catch {
                if case .rateLimited(let policy, _, _) = error { metrics?.rateLimited(policy) }
                throw error
            }
        }
        return try await next(request, context)
    }

    /// Out of line to keep `handle`'s frame small (``Middleware``).
    @inline(never)
    private func admit(_ request: HTTPServerRequest, _ context: RequestContext) throws(APIError) {
        let address = context.clientAddress
        if let principal = context.principal, principal.role == .admin || principal.role == .pos {
            if let keys, let wait = keys.take(.key(principal.keyID.rawValue)) { throw keys.refusal(retryAfter: wait) }
        } else if let addresses, let address, let wait = addresses.take(.address(address)) {
            throw addresses.refusal(retryAfter: wait)
        }
        if let sensitive, let address, request.head.method == .post, Self.sensitivePaths.contains(request.path),
           let wait = sensitive.take(.address(address)) {
            throw sensitive.refusal(retryAfter: wait)
        }
    }
}
