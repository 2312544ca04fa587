import ShopfloorDomain

/// `POST /v1/carts` body.
struct CreateCartDTO: Decodable {
    var channel: Cart.Channel
    /// Location code of a `pos` cart; a pos key's own location when left out.
    var location: String?
    var customerId: String?
    var currency: Currency?
}

/// `POST /v1/carts/{id}/lines` body; `customisation` (free JSON) is read from the parsed document
/// as sent.
struct AddLineDTO: Decodable {
    var sku: String
    var quantity: Int
}

/// `PATCH /v1/carts/{id}/lines/{line_id}` body.
struct UpdateLineDTO: Decodable {
    var quantity: Int?
}
