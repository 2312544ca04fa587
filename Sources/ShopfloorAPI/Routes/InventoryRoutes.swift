import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Stock levels and movements: read by admins and tills; adjusted by admins, or by a till at its own
/// location; counted (stocktake) by admins.
struct InventoryRoutes {
    let inventory: InventoryService
    let locations: LocationService

    func register(on router: inout Router) {
        router.on(.get, "/v1/inventory/{sku}") { _, context in
            try context.require(.admin, .pos)
            return try JSON.response(try inventory.level(try context.parameter("sku")))
        }
        router.on(.post, "/v1/inventory/{sku}/adjustments") { request, context in
            let principal = try context.require(.admin, .pos)
            let input = try request.decode(AdjustmentDTO.self)
            let location = try resolve(input.location, for: principal)
            let level = try await inventory.adjust(
                sku: try context.parameter("sku"), location: location, delta: input.delta, reason: input.reason,
                actor: principal.actor, note: input.note, request: try request.idempotentRequest())
            return try JSON.response(level)
        }
        router.on(.put, "/v1/inventory/{sku}/levels/{location}") { request, context in
            let principal = try context.require(.admin)
            let input = try request.decode(SetLevelDTO.self)
            let location = try resolve(try context.parameter("location"), for: principal)
            let level = try await inventory.setLevel(sku: try context.parameter("sku"), location: location, onHand: input.onHand, actor: principal.actor)
            return try JSON.response(level)
        }
        router.on(.get, "/v1/inventory/{sku}/movements") { request, context in
            try context.require(.admin, .pos)
            var before: Int64?
            if let cursor = request.queryParameters["cursor"] {
                guard case .after(let id)? = ProductQuery.Cursor(token: cursor) else { throw APIError.invalidRequest(detail: "cursor is not valid.") }
                before = id
            }
            return try JSON.response(try inventory.movements(sku: try context.parameter("sku"), before: before, limit: try request.limit()))
        }
    }

    /// The location a change applies to: the one named (admins), or the till's own (pos keys, which may
    /// name no other).
    private func resolve(_ code: String?, for principal: Principal) throws -> Location {
        if principal.role == .pos {
            guard let own = principal.locationID, let location = try locations.find(own.rawValue) else { throw APIError.forbidden(required: [.admin]) }
            guard code == nil || code == location.code || code == location.id.rawValue else { throw InventoryError.otherLocation(code ?? "") }
            return location
        }
        guard let location = try locations.find(code ?? "main") else { throw InventoryError.unknownLocation(code ?? "main") }
        return location
    }
}
