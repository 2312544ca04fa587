import HTTPTypes
import Logging
import ShopfloorDomain
import ShopfloorTransport

/// Resolves `Authorization: Bearer <key>` to the caller. A request without a key goes on as anonymous
/// (routes decide with ``RequestContext/require(_:)``); a request with a wrong key is refused at once.
struct AuthMiddleware: Middleware {
    let keys: APIKeyService

    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        guard let header = request.head.headerFields.value(of: .authorization) else {
            return try await next(request, context)
        }
        let principal = try principal(header)
        var context = context
        context.principal = principal
        var metadata = RequestLogMetadata.current ?? RequestLogMetadata(requestID: context.requestID)
        metadata.keyID = principal.keyID.rawValue
        return try await RequestLogMetadata.$current.withValue(metadata) { try await next(request, context) }
    }

    /// The key a `Bearer` header names. Out of line to keep `handle`'s frame small (``Middleware``).
    @inline(never)
    private func principal(_ header: String) throws(APIError) -> Principal {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              let principal = keys.authenticate(String(parts[1].drop { $0 == " " || $0 == "\t" }))
        else { throw .unauthorized }
        return principal
    }
}
