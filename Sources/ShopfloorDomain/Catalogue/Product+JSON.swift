public import ShopfloorJSON

/// Products written by hand: a page of search hits encodes up to 200 of them, and the generic
/// `Encoder` spent a third of a cold search page's time on it. The bytes are the generic encoder's
/// (synthesised keys in declaration order, `nil` left out, attributes sorted), pinned by a test.
extension Product: DirectJSONEncodable {
    public func writeJSON(into object: inout JSONObjectWriter) throws {
        object.string("id", id.rawValue)
        object.string("title", title)
        object.string("description", ifPresent: description)
        object.string("category", ifPresent: category)
        object.array("tags", tags) { tag, array in array.string(tag) }
        object.array("images", images) { image, array in array.string(image) }
        object.string("status", status.rawValue)
        try object.array("variants", variants) { variant, array in try array.object(variant) }
        object.string("created_at", createdAt)
        object.string("updated_at", updatedAt)
    }
}

extension Variant: DirectJSONEncodable {
    public func writeJSON(into object: inout JSONObjectWriter) throws {
        object.string("id", id.rawValue)
        object.string("sku", sku)
        object.string("title", ifPresent: title)
        object.object("price") { price in
            price.integer("amount", self.price.amount)
            price.string("currency", self.price.currency.code)
        }
        object.object("attributes") { attributes in
            for key in self.attributes.keys.sorted() { attributes.string(key, self.attributes[key]!) }
        }
        object.string("barcode", ifPresent: barcode)
        if let lowStockThreshold { object.integer("low_stock_threshold", Int64(lowStockThreshold)) }
        object.integer("available", Int64(available))
    }
}
