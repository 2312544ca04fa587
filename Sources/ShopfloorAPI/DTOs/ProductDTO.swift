import ShopfloorDomain

/// `POST /v1/products/import` body: up to 1,000 products created in one transaction.
struct ImportProductsDTO: Decodable {
    var products: [NewProduct]
}

/// What an import created, in request order.
struct ImportResultDTO: Encodable {
    var created: Int
    var ids: [ProductID]
}
