import HTTPTypes
import ShopfloorTransport

/// Cross-origin calls from browser storefronts on other origins (`--cors-origins`; Fetch standard,
/// CORS protocol). Installed only when origins are configured, so a server without it pays nothing.
///
/// A listed origin may call every route: its preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) is answered 204 with the methods and request headers the API
/// uses, and its answers name it in `Access-Control-Allow-Origin` and expose `X-Request-Id`,
/// `Retry-After` and `ETag`. With `*`, any origin may make the public reads (``CachePolicy``'s), and
/// nothing else. Credentials are bearer tokens the page sends itself, never cookies: the staff
/// session's cookie stays same-site, so no `Access-Control-Allow-Credentials` is ever sent.
struct CORSMiddleware: Middleware {
    let origins: Set<String>
    private var anyOriginForPublicReads: Bool { origins.contains("*") }

    static let allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE"
    static let allowedHeaders = "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id"
    static let exposedHeaders = "X-Request-Id, Retry-After, ETag"
    /// How long a browser may keep a preflight's answer (seconds).
    static let maxAge = "600"

    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        guard let origin = request.head.headerFields[.origin] else { return try await next(request, context) }
        if request.head.method == .options, request.head.headerFields[.accessControlRequestMethod] != nil {
            return preflight(origin: origin, method: request.head.headerFields[.accessControlRequestMethod] ?? "")
        }
        return allow(try await next(request, context), origin: origin, request: request)
    }

    /// The origin a listed one may be named as, `*` for a public read under `*`, or `nil`.
    private func allowedOrigin(_ origin: String, publicRead: Bool) -> String? {
        if origins.contains(origin) { return origin }
        return anyOriginForPublicReads && publicRead ? "*" : nil
    }

    @inline(never)
    private func preflight(origin: String, method: String) -> HTTPServerResponse {
        let publicRead = method == "GET" || method == "HEAD"
        guard let allowed = allowedOrigin(origin, publicRead: publicRead) else {
            var response = Problem(status: .forbidden, code: "forbidden",
                                   detail: "Origin \(origin.prefix(200)) may not call this API (--cors-origins).").response()
            response.headerFields[.vary] = "Origin"
            return response
        }
        return HTTPServerResponse(status: .noContent, headerFields: [
            .accessControlAllowOrigin: allowed,
            .accessControlAllowMethods: allowed == "*" ? "GET, HEAD" : Self.allowedMethods,
            .accessControlAllowHeaders: Self.allowedHeaders,
            .accessControlMaxAge: Self.maxAge,
            .vary: "Origin",
            .cacheControl: "no-store",
        ])
    }

    @inline(never)
    private func allow(_ response: HTTPServerResponse, origin: String, request: HTTPServerRequest) -> HTTPServerResponse {
        var response = response
        response.headerFields.append(HTTPField(name: .vary, value: "Origin"))
        guard let allowed = allowedOrigin(origin, publicRead: CachePolicy.isPublicRead(request)) else { return response }
        response.headerFields[.accessControlAllowOrigin] = allowed
        response.headerFields[.accessControlExposeHeaders] = Self.exposedHeaders
        return response
    }
}
