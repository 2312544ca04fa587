import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// API keys, for admins: issue (the secret is shown once), list, revoke.
struct APIKeyRoutes {
    let keys: APIKeyService
    let locations: LocationService

    func register(on router: inout Router) {
        router.on(.post, "/v1/api-keys") { request, context in
            try context.require(.admin)
            let input = try request.decode(CreateAPIKeyDTO.self)
            var location: Location?
            if let code = input.location {
                guard let found = try locations.find(code) else { throw APIError.missing(detail: "No location \(code).") }
                location = found
            }
            let (key, secret) = try await keys.issue(role: input.role, name: input.name, location: location)
            return try JSON.response(
                IssuedAPIKeyDTO(id: key.id, key: secret, name: key.name, role: key.role, location: key.location, createdAt: key.createdAt),
                status: .created)
        }
        router.on(.get, "/v1/api-keys") { _, context in
            try context.require(.admin)
            return try JSON.response(Page(items: try keys.list(), nextCursor: nil))
        }
        router.on(.delete, "/v1/api-keys/{id}") { _, context in
            try context.require(.admin)
            try await keys.revoke(APIKeyID(rawValue: try context.parameter("id")))
            return HTTPServerResponse(status: .noContent)
        }
    }
}
