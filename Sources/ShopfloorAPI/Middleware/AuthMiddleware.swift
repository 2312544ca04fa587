import HTTPTypes
import Logging
import ShopfloorDomain
import ShopfloorTransport

/// Resolves `Authorization: Bearer <key>` to the caller: an API key, or a signed-in shopper's customer
/// token (`cst_…`). A request without either goes on as anonymous (routes decide with
/// ``RequestContext/require(_:)`` and ``RequestContext/requireCustomer()``); a request with a wrong,
/// expired or signed-out one is refused at once.
struct AuthMiddleware: Middleware {
    let keys: APIKeyService
    let shoppers: ShopperAuthService

    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        guard let header = request.head.headerFields.value(of: .authorization) else {
            return try await next(request, context)
        }
        let token = try bearer(header)
        var context = context
        if token.hasPrefix(ShopperAuthService.tokenPrefix) {
            guard let customer = shoppers.authenticate(token) else { throw APIError.unauthorized }
            context.customer = customer
            return try await next(request, context)
        }
        guard let principal = keys.authenticate(token) else { throw APIError.unauthorized }
        context.principal = principal
        var metadata = RequestLogMetadata.current ?? RequestLogMetadata(requestID: context.requestID)
        metadata.keyID = principal.keyID.rawValue
        return try await RequestLogMetadata.$current.withValue(metadata) { try await next(request, context) }
    }

    /// The credential of a `Bearer` header. Out of line to keep `handle`'s frame small (``Middleware``).
    @inline(never)
    private func bearer(_ header: String) throws(APIError) -> String {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .unauthorized }
        return String(parts[1].drop { $0 == " " || $0 == "\t" })
    }
}
