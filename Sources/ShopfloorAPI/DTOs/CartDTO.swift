import ShopfloorDomain
import ShopfloorJSON

/// `POST /v1/carts` body.
struct CreateCartDTO: Decodable {
    var channel: Cart.Channel
    /// Location code of a `pos` cart; a pos key's own location when left out.
    var location: String?
    var customerID: String?
    var currency: Currency?
}

/// `POST /v1/carts/{id}/lines` body; `customisation` (free JSON) is read from the parsed document
/// as sent.
struct AddLineDTO: Decodable, DocumentDecodable {
    var sku: String
    var quantity: Int

    init?(document: JSONValue) {
        guard case .object(let members, _) = document, case .string(let sku)? = members["sku"],
              case .integer(let quantity)? = members["quantity"], let count = Int(exactly: quantity)
        else { return nil }
        self.sku = sku
        self.quantity = count
    }
}

/// `PATCH /v1/carts/{id}/lines/{line_id}` body.
struct UpdateLineDTO: Decodable, DocumentDecodable {
    var quantity: Int?

    init?(document: JSONValue) {
        guard case .object(let members, _) = document else { return nil }
        switch members["quantity"] {
        case nil, .null?: quantity = nil
        case .integer(let value)?: quantity = Int(exactly: value)
        default: return nil
        }
    }
}
