import ShopfloorDomain

/// `POST /v1/inventory/{sku}/adjustments` body.
struct AdjustmentDTO: Decodable {
    /// Location code; defaults to a pos key's own location, else `main`.
    var location: String?
    var delta: Int
    var reason: AdjustmentReason
    var note: String?
}

/// `PUT /v1/inventory/{sku}/levels/{location}` body: the counted units.
struct SetLevelDTO: Decodable {
    var onHand: Int
}
