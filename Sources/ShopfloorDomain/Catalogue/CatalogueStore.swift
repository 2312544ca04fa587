/// Where products and their variants live. Text search is not here: ``ProductSearchIndex`` holds it
/// in memory, loaded from ``searchDocuments(after:limit:)``.
///
/// Each product has a position (`seq`) in the order created, which pages listings and keys the index.
/// A product's variants read back with `available`: the free units at the locations that fulfil online.
public protocol CatalogueStore: Sendable {
    // MARK: Reads, from the last commit

    func product(_ id: ProductID) throws -> Product?
    /// The products at these positions, in the order given (positions with no product are skipped).
    func products(at positions: [Int64]) throws -> [Product]
    /// The page of products matching `query`'s filters (at most `limit`, plus whether more follow) in
    /// the order created, after its ``ProductQuery/Cursor/after(seq:)`` cursor; its text is not read.
    func list(_ query: ProductQuery, limit: Int) throws -> (hits: [ProductHit], more: Bool)
    /// Up to `limit` products after position `seq`, in order, as the search index reads them.
    func searchDocuments(after seq: Int64, limit: Int) throws -> [ProductSearchDocument]
    /// The position of the product a variant with this barcode belongs to.
    func productUsing(barcode: String) throws -> Int64?
    /// Which of these products have a unit free at a location that fulfils online.
    func inStock(_ seqs: [Int64]) throws -> Set<Int64>

    // MARK: Inside the writer's transaction

    /// The product's position and the product, as `transaction` sees them.
    func product(_ id: ProductID, in transaction: any WriteTransaction) throws -> (seq: Int64, product: Product)?
    /// The position of the product a variant with this SKU belongs to.
    func productUsing(sku: String, in transaction: any WriteTransaction) throws -> Int64?
    /// The position of the product a variant with this barcode belongs to.
    func productUsing(barcode: String, in transaction: any WriteTransaction) throws -> Int64?
    /// Inserts a product with its variants; returns its position. A SKU or barcode
    /// already taken throws ``CatalogueError``.
    func insert(_ product: Product, in transaction: any WriteTransaction) throws -> Int64
    /// Writes the product's own fields (not its variants).
    func update(_ product: Product, seq: Int64, in transaction: any WriteTransaction) throws
    /// Changes the given fields of a variant.
    func update(_ variant: VariantID, with patch: VariantPatch, in transaction: any WriteTransaction) throws
    /// Adds a variant at `position` among the product's variants.
    func insert(_ variant: Variant, productSeq: Int64, position: Int, in transaction: any WriteTransaction) throws
    /// Units of the product's variants held in carts, over every location.
    func reservedUnits(ofProduct seq: Int64, in transaction: any WriteTransaction) throws -> Int
    /// Deletes the product, its variants and its SKUs' stock levels (their movements
    /// stay as history); returns the SKUs.
    func delete(productSeq seq: Int64, in transaction: any WriteTransaction) throws -> [String]
}

/// A product on a page of results: its position and id.
public struct ProductHit: Sendable, Equatable {
    public var seq: Int64
    public var id: String

    public init(seq: Int64, id: String) {
        self.seq = seq
        self.id = id
    }
}
