@testable import ShopfloorDomain
import ShopfloorJSON
import Testing

/// Products are written by hand (``DirectJSONEncodable``) for the search pages' sake; the bytes are
/// those the generic encoder wrote before, pinned here.
struct ProductJSONTests {
    @Test func productIsWrittenAsTheGenericEncoderWroteIt() throws {
        let product = Product(
            id: ProductID(rawValue: "prod_1"), title: "Mug \"Tea\"", description: nil, category: "kitchen", tags: ["blue", "é"],
            images: ["https://images.example/1.jpg"], status: .active,
            variants: [
                Variant(id: VariantID(rawValue: "var_1"), sku: "MUG-1", title: "Large", price: Money(amount: 1250, currency: Currency("GBP")!),
                        attributes: ["size": "L", "colour": "blue"], barcode: "5012345678900", lowStockThreshold: 2, available: 7),
                Variant(id: VariantID(rawValue: "var_2"), sku: "MUG-2", title: nil, price: Money(amount: 0, currency: Currency("EUR")!),
                        attributes: [:], barcode: nil, lowStockThreshold: nil, available: 0),
            ],
            createdAt: "2026-12-07T10:00:00Z", updatedAt: "2026-12-07T11:00:00Z")
        let expected = #"{"id":"prod_1","title":"Mug \"Tea\"","category":"kitchen","tags":["blue","é"],"images":["https://images.example/1.jpg"],"status":"active","variants":[{"id":"var_1","sku":"MUG-1","title":"Large","price":{"amount":1250,"currency":"GBP"},"attributes":{"colour":"blue","size":"L"},"barcode":"5012345678900","low_stock_threshold":2,"available":7},{"id":"var_2","sku":"MUG-2","price":{"amount":0,"currency":"EUR"},"attributes":{},"available":0}],"created_at":"2026-12-07T10:00:00Z","updated_at":"2026-12-07T11:00:00Z"}"#
        #expect(String(decoding: try JSONCoding.encode(product), as: UTF8.self) == expected)
        #expect(String(decoding: try JSONCoding.encode([product]), as: UTF8.self) == "[\(expected)]")
        var described = product
        described.description = "A\nmug"
        #expect(String(decoding: try JSONCoding.encode(described), as: UTF8.self).contains(#""title":"Mug \"Tea\"","description":"A\nmug","category""#))
    }
}
