import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// The catalogue: public reads of active products, admin writes.
struct ProductRoutes {
    let catalogue: CatalogueService
    let responses: ProductResponses

    func register(on router: inout Router) {
        router.on(.post, "/v1/products") { request, context in
            let principal = try context.require(.admin)
            let product = try await catalogue.create(try request.decode(NewProduct.self), actor: principal.actor)
            return try JSON.response(product, status: .created)
        }
        router.on(.post, "/v1/products/import") { request, context in
            let principal = try context.require(.admin)
            let products = try await catalogue.create(try request.decode(ImportProductsDTO.self).products, actor: principal.actor)
            return try JSON.response(ImportResultDTO(created: products.count, ids: products.map(\.id)), status: .created)
        }
        router.on(.get, "/v1/products") { request, context in
            let json = try responses.page(try query(request, isAdmin: context.principal?.role == .admin))
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"], body: .bytes(json))
        }
        router.on(.get, "/v1/products/{id}") { _, context in
            let id = ProductID(rawValue: try context.parameter("id"))
            guard let (json, status) = try responses.product(id), status == .active || context.principal?.role == .admin else {
                throw CatalogueError.productNotFound(id.rawValue)
            }
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/json"], body: .bytes(json))
        }
        router.on(.patch, "/v1/products/{id}") { request, context in
            let principal = try context.require(.admin)
            let product = try await catalogue.update(
                ProductID(rawValue: try context.parameter("id")), try request.decode(ProductPatch.self), actor: principal.actor)
            return try JSON.response(product)
        }
        router.on(.delete, "/v1/products/{id}") { _, context in
            try context.require(.admin)
            try await catalogue.delete(ProductID(rawValue: try context.parameter("id")))
            return HTTPServerResponse(status: .noContent)
        }
    }

    /// The list query from `q`, `category`, `tag`, `barcode`, `status`, `in_stock`, `limit`, `cursor`.
    /// Only admins see drafts and archived products.
    private func query(_ request: HTTPServerRequest, isAdmin: Bool) throws -> ProductQuery {
        let parameters = request.queryParameters
        var query = ProductQuery()
        query.text = parameters["q"]
        query.category = parameters["category"]
        query.tag = parameters["tag"]
        query.barcode = parameters["barcode"]
        query.limit = try request.limit()
        if let status = parameters["status"] {
            guard let parsed = Product.Status(rawValue: status) else {
                throw APIError.invalidRequest(detail: "status must be active, draft or archived.")
            }
            query.status = parsed
        }
        if !isAdmin {
            guard query.status == nil || query.status == .active else { throw APIError.forbidden(required: [.admin]) }
            query.status = .active
        }
        if let inStock = parameters["in_stock"] {
            guard let flag = ["true": true, "false": false][inStock] else { throw APIError.invalidRequest(detail: "in_stock must be true or false.") }
            query.inStock = flag
        }
        if let cursor = parameters["cursor"] {
            guard let parsed = ProductQuery.Cursor(token: cursor) else { throw APIError.invalidRequest(detail: "cursor is not valid.") }
            query.cursor = parsed
        }
        return query
    }
}
