import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// The live cart. Knowing a cart's id is the capability to use it (ids carry 128 random bits), so cart
/// reads and writes by id are public; creating a `pos` cart needs a pos or admin key, and listing carts
/// is for admins. A cart created with a customer token belongs to that shopper.
struct CartRoutes {
    let carts: CartService
    let locations: LocationService
    let currency: Currency
    /// Caps the open carts of one client address; staff carts go around it.
    let openCarts: OpenCartLimiter

    func register(on router: inout Router) {
        router.on(.post, "/v1/carts") { request, context in
            let input = try request.decode(CreateCartDTO.self)
            var location: Location?
            if input.channel == .pos {
                let principal = try context.require(.admin, .pos)
                location = try resolve(input.location, for: principal)
            } else if input.location != nil {
                throw ValidationError(field: "location", detail: "applies to pos carts only")
            }
            var customerID = input.customerID
            if let shopper = context.customer {
                // A signed-in shopper's cart is theirs, and only theirs.
                guard customerID == nil || customerID == shopper.rawValue else { throw CustomerError.notYours }
                customerID = shopper.rawValue
            }
            let create = {
                try await carts.create(channel: input.channel, location: location, customerID: customerID,
                                       currency: input.currency ?? currency, customerVerified: context.vouchesForCustomer)
            }
            let isStaff = context.principal.map { $0.role == .admin || $0.role == .pos } ?? false
            guard !isStaff, let address = context.clientAddress else { return try JSON.response(try await create(), status: .created) }
            let cart = try await openCarts.create(from: address, isActive: { try carts.cart($0)?.status == .active }, create)
            return try JSON.response(cart, status: .created)
        }
        router.on(.get, "/v1/carts") { request, context in
            try context.require(.admin)
            var status: Cart.Status?
            if let raw = request.queryParameters["status"] {
                guard let parsed = Cart.Status(rawValue: raw) else {
                    throw APIError.invalidRequest(detail: "status must be active, expired, completed or deleted.")
                }
                status = parsed
            }
            var after: Int64?
            if let cursor = request.queryParameters["cursor"] {
                guard case .after(let seq)? = ProductQuery.Cursor(token: cursor) else { throw APIError.invalidRequest(detail: "cursor is not valid.") }
                after = seq
            }
            return try JSON.response(try carts.carts(status: status, limit: try request.limit(), after: after))
        }
        router.on(.get, "/v1/carts/{id}") { _, context in
            let id = CartID(rawValue: try context.parameter("id"))
            guard let cart = try carts.cart(id) else { throw CartError.notFound(id.rawValue) }
            return try JSON.response(cart)
        }
        router.on(.delete, "/v1/carts/{id}") { _, context in
            try await carts.delete(CartID(rawValue: try context.parameter("id")))
            return HTTPServerResponse(status: .noContent)
        }
        router.on(.post, "/v1/carts/{id}/lines") { request, context in
            let (input, document) = try request.decodeWithDocument(AddLineDTO.self)
            let cart = try await carts.addLine(
                CartID(rawValue: try context.parameter("id")), sku: input.sku, quantity: input.quantity,
                customisation: try customisation(in: document))
            return try JSON.response(cart)
        }
        router.on(.patch, "/v1/carts/{id}/lines/{line}") { request, context in
            let (input, document) = try request.decodeWithDocument(UpdateLineDTO.self)
            let cart = try await carts.updateLine(
                CartID(rawValue: try context.parameter("id")), line: CartLineID(rawValue: try context.parameter("line")),
                quantity: input.quantity, customisation: try customisation(in: document))
            return try JSON.response(cart)
        }
        router.on(.delete, "/v1/carts/{id}/lines/{line}") { _, context in
            let cart = try await carts.removeLine(
                CartID(rawValue: try context.parameter("id")), line: CartLineID(rawValue: try context.parameter("line")))
            return try JSON.response(cart)
        }
    }

    /// The line's free JSON exactly as sent (keys, order and numbers), taken from the parsed document
    /// rather than the decoder, which would rewrite snake_case keys. It must be an object or `null`.
    private func customisation(in document: JSONValue) throws -> JSONValue? {
        guard case .object(let members, _) = document, let value = members["customisation"] else { return nil }
        switch value {
        case .null: return nil
        case .object: return value
        default: throw ValidationError(field: "customisation", detail: "must be a JSON object")
        }
    }

    /// A pos cart sells from the till's own location; an admin names one.
    private func resolve(_ code: String?, for principal: Principal) throws -> Location {
        if principal.role == .pos {
            guard let own = principal.locationID, let location = try locations.find(own.rawValue) else { throw APIError.forbidden(required: [.admin]) }
            guard code == nil || code == location.code || code == location.id.rawValue else { throw InventoryError.otherLocation(code ?? "") }
            return location
        }
        guard let code else { throw ValidationError(field: "location", detail: "is required for a pos cart") }
        guard let location = try locations.find(code) else { throw InventoryError.unknownLocation(code) }
        return location
    }
}
