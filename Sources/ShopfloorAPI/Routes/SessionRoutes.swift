import Foundation
import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Staff sign-in for the pages (API.md, Operations): an API key exchanged for a session cookie
/// (`HttpOnly`, `SameSite=Strict`, `Secure` under TLS) that `/v1/events/ws` also accepts. The key is
/// sent once, in the body, and never kept by the page; the answer carries the CSRF token the page
/// sends with its writes.
struct SessionRoutes {
    let sessions: StaffSessionService
    let locations: LocationService

    func register(on router: inout Router) {
        router.on(.post, "/v1/sessions") { request, _ in
            let body = try request.decode(SignIn.self)
            guard let key = body.key, !key.isEmpty else { throw ValidationError(field: "key", detail: "is required") }
            let (token, session) = try await sessions.signIn(key: key)
            var response = try JSON.response(try describe(session), status: .created)
            response.headerFields.append(HTTPField(name: .setCookie, value: cookie(token, maxAge: sessions.ttlSeconds, secure: request.isSecure)))
            response.headerFields[.cacheControl] = "no-store"
            return response
        }
        router.on(.get, "/v1/sessions/current") { _, context in
            guard let token = context.sessionToken, let session = sessions.authenticate(token) else { throw APIError.unauthorized }
            var response = try JSON.response(try describe(session))
            response.headerFields[.cacheControl] = "no-store"
            return response
        }
        router.on(.delete, "/v1/sessions/current") { request, context in
            if let token = context.sessionToken { try await sessions.signOut(token) }
            return HTTPServerResponse(status: .noContent, headerFields: [.setCookie: cookie("", maxAge: 0, secure: request.isSecure)])
        }
    }

    private func describe(_ session: StaffSessionService.Opened) throws -> SessionDTO {
        let location = try session.principal.locationID.flatMap { try locations.find($0.rawValue)?.code }
        return SessionDTO(role: session.principal.role.rawValue, location: location, csrfToken: session.csrfToken,
                          expiresAt: Timestamp.string(Date(timeIntervalSince1970: Double(session.expiresAtMilliseconds) / 1000)))
    }

    private func cookie(_ token: String, maxAge: Int64, secure: Bool) -> String {
        "\(AuthMiddleware.sessionCookie)=\(token); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}

private struct SignIn: Decodable {
    var key: String?
}

private struct SessionDTO: Encodable {
    var role: String
    @Nullable var location: String?
    var csrfToken: String
    var expiresAt: String
}
