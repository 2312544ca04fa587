import ShopfloorDomain

/// `POST /v1/api-keys` body.
struct CreateAPIKeyDTO: Decodable {
    var role: Role
    var name: String
    /// Location code, for `pos` keys.
    var location: String?
}

/// A newly issued key: the only response that ever shows `key`.
struct IssuedAPIKeyDTO: Encodable {
    var id: APIKeyID
    var key: String
    var name: String
    var role: Role
    var location: String?
    var createdAt: String
}
