import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Locations: listed publicly (a store finder needs them), created by admins.
struct LocationRoutes {
    let locations: LocationService

    func register(on router: inout Router) {
        router.on(.post, "/v1/locations") { request, context in
            try context.require(.admin)
            let input = try request.decode(CreateLocationDTO.self)
            let location = try await locations.create(code: input.code, name: input.name, kind: input.kind, fulfilsOnline: input.fulfilsOnline)
            return try JSON.response(location, status: .created)
        }
        router.on(.get, "/v1/locations") { _, _ in
            try JSON.response(Page(items: try locations.all(), nextCursor: nil))
        }
    }
}
