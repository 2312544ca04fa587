import HTTPTypes
import Logging
import ShopfloorCrypto
import ShopfloorDomain
import ShopfloorTransport

/// Resolves the caller: `Authorization: Bearer <key>` (an API key, or a signed-in shopper's customer
/// token `cst_…`), else a staff session's cookie (`sf_session`, the pages). A request with none goes
/// on as anonymous (routes decide with ``RequestContext/require(_:)`` and
/// ``RequestContext/requireCustomer()``); a wrong, expired or signed-out bearer token is refused at
/// once, while a stale cookie is only ignored (the page then signs in again).
///
/// A cookie is sent by the browser whoever asks, so a write on one must also carry the session's
/// CSRF token in `X-CSRF-Token`, which only the pages of this origin can read (`SameSite=Strict`
/// already keeps the cookie off other sites' requests; this is the second lock).
struct AuthMiddleware: Middleware {
    static let sessionCookie = "sf_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let keys: APIKeyService
    let shoppers: ShopperAuthService
    let sessions: StaffSessionService

    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        guard let header = request.head.headerFields.value(of: .authorization) else {
            guard let token = Self.cookie(Self.sessionCookie, in: request), request.path != "/v1/sessions" else {
                return try await next(request, context)
            }
            return try await withSession(token, request, context, next)
        }
        let token = try bearer(header)
        var context = context
        if token.hasPrefix(ShopperAuthService.tokenPrefix) {
            guard let customer = shoppers.authenticate(token) else { throw APIError.unauthorized }
            context.customer = customer
            return try await next(request, context)
        }
        guard let principal = keys.authenticate(token) else { throw APIError.unauthorized }
        return try await proceed(request, context, as: principal, next)
    }

    /// Out of line, like ``bearer(_:)``: only the pages' requests come this way.
    @inline(never)
    private func withSession(_ token: String, _ request: HTTPServerRequest, _ context: RequestContext, _ next: RequestHandler) async throws
        -> HTTPServerResponse {
        guard let session = sessions.authenticate(token) else { return try await next(request, context) }
        if ![.get, .head, .options].contains(request.head.method) {
            let sent = request.head.headerFields[Self.csrfHeader] ?? ""
            guard Digest.constantTimeEquals(Array(sent.utf8), Array(session.csrfToken.utf8)) else { throw APIError.csrfTokenMissing }
        }
        var context = context
        context.sessionToken = token
        return try await proceed(request, context, as: session.principal, next)
    }

    private func proceed(_ request: HTTPServerRequest, _ context: RequestContext, as principal: Principal, _ next: RequestHandler) async throws
        -> HTTPServerResponse {
        var context = context
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

    /// A cookie's value from the request's `Cookie` fields (RFC 6265 §5.4).
    static func cookie(_ name: String, in request: HTTPServerRequest) -> String? {
        for field in request.head.headerFields[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingPrefix(" ") == name { return String(parts[1]) }
            }
        }
        return nil
    }
}
