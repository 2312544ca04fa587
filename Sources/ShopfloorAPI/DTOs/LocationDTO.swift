import ShopfloorDomain

/// `POST /v1/locations` body.
struct CreateLocationDTO: Decodable {
    var code: String
    var name: String
    var kind: Location.Kind
    var fulfilsOnline: Bool
}
