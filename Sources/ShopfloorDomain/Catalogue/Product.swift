/// A product as sold: a title and its sellable variants, each a SKU with a price.
public struct Product: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case active, draft, archived
    }

    public var id: ProductID
    public var title: String
    public var description: String?
    public var category: String?
    public var tags: [String]
    public var images: [String]
    public var status: Status
    public var variants: [Variant]
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: ProductID, title: String, description: String?, category: String?, tags: [String], images: [String], status: Status,
        variants: [Variant], createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.category = category
        self.tags = tags
        self.images = images
        self.status = status
        self.variants = variants
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One sellable SKU of a product.
public struct Variant: Codable, Sendable, Equatable {
    public var id: VariantID
    /// Unique across the shop.
    public var sku: String
    public var title: String?
    public var price: Money
    /// Free attributes such as size and colour.
    public var attributes: [String: String]
    /// EAN-8, UPC-A, EAN-13 or GTIN-14, for tills that scan.
    public var barcode: String?
    /// At or below this many units available online, `stock.low` is emitted.
    public var lowStockThreshold: Int?
    /// Units sellable online now: on hand minus reserved, over the locations that fulfil online.
    public var available: Int

    public init(
        id: VariantID, sku: String, title: String?, price: Money, attributes: [String: String], barcode: String?, lowStockThreshold: Int?,
        available: Int
    ) {
        self.id = id
        self.sku = sku
        self.title = title
        self.price = price
        self.attributes = attributes
        self.barcode = barcode
        self.lowStockThreshold = lowStockThreshold
        self.available = available
    }
}

/// A product to create (API.md: `POST /v1/products`).
public struct NewProduct: Decodable, Sendable {
    public var title: String
    public var description: String?
    public var category: String?
    public var tags: [String]?
    public var images: [String]?
    public var status: Product.Status?
    public var variants: [NewVariant]
}

/// A variant to create, or to update when a product patch names an existing SKU.
public struct NewVariant: Decodable, Sendable {
    public var sku: String
    public var title: String?
    public var price: Money
    public var attributes: [String: String]?
    public var barcode: String?
    public var lowStockThreshold: Int?
    /// Units on hand to record per location code when the variant is created (`received`).
    public var initialStock: [String: Int]?
}

/// A partial update: absent fields stay as they are; `variants` are matched by SKU, updated when
/// they exist and added when they do not.
public struct ProductPatch: Decodable, Sendable {
    public var title: String?
    public var description: String?
    public var category: String?
    public var tags: [String]?
    public var images: [String]?
    public var status: Product.Status?
    public var variants: [VariantPatch]?
}

/// A variant in a product patch, matched by SKU: named fields change, absent ones stay. A SKU the
/// product does not have yet adds a variant, which then needs a `price`.
public struct VariantPatch: Decodable, Sendable {
    public var sku: String
    public var title: String?
    public var price: Money?
    public var attributes: [String: String]?
    public var barcode: String?
    public var lowStockThreshold: Int?
    public var initialStock: [String: Int]?
}

/// Catalogue failures.
public enum CatalogueError: Error, Equatable {
    case productNotFound(String)
    case duplicateSKU(String)
    case duplicateBarcode(String)
    /// The product still has units reserved in carts.
    case productInUse(String)
}
