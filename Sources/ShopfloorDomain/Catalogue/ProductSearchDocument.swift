/// What catalogue search reads of a product: the text it matches and the fields it filters on.
public struct ProductSearchDocument: Sendable, Equatable {
    /// The product's position (the store's `seq`).
    public var seq: Int64
    public var id: String
    public var title: String
    public var description: String?
    public var category: String?
    public var tags: [String]
    public var status: Product.Status
    public var skus: [String]

    public init(seq: Int64, id: String, title: String, description: String?, category: String?, tags: [String],
                status: Product.Status, skus: [String]) {
        self.seq = seq
        self.id = id
        self.title = title
        self.description = description
        self.category = category
        self.tags = tags
        self.status = status
        self.skus = skus
    }

    public init(seq: Int64, product: Product) {
        self.init(seq: seq, id: product.id.rawValue, title: product.title, description: product.description, category: product.category,
                  tags: product.tags, status: product.status, skus: product.variants.map(\.sku))
    }
}
