import ShopfloorDomain
import ShopfloorJSON

/// Product responses as JSON, built from encoded products kept in memory (``ProductCache``): reading a
/// product that has not changed since it was last read costs no query and no encoding, and a page of
/// products encodes only those not cached.
final class ProductResponses: Sendable {
    private let catalogue: CatalogueService
    private let events: EventLog
    private let cache = ProductCache()

    init(catalogue: CatalogueService, events: EventLog) {
        self.catalogue = catalogue
        self.events = events
        _ = events.subscribe { [cache] event in cache.invalidate(by: event) }
    }

    /// The product's body and its status; `nil` when there is no such product.
    func product(_ id: ProductID) throws -> (json: [UInt8], status: Product.Status)? {
        if let cached = cache.json(for: id.rawValue) { return cached }
        let loadedAt = events.publishedSeq
        guard let product = try catalogue.product(id) else { return nil }
        let json = try JSONCoding.encode(product)
        cache.store(json, status: product.status, for: id.rawValue, skus: product.variants.map(\.sku), loadedAt: loadedAt)
        return (json, product.status)
    }

    /// The page of products matching `query`, as a list body.
    ///
    /// A product whose status no longer matches the query's is left out: the search index learns of
    /// a change a moment after the database shows it, and a product just taken out of the shop must
    /// not be shown to the public from a search that ran in between.
    func page(_ query: ProductQuery) throws -> [UInt8] {
        let loadedAt = events.publishedSeq
        let (page, next) = try catalogue.search(query)
        var parts = [String: [UInt8]]()
        var missing: [Int64] = []
        for hit in page {
            if let cached = cache.json(for: hit.id) {
                if query.status.map({ $0 == cached.status }) ?? true { parts[hit.id] = cached.json }
            } else {
                missing.append(hit.seq)
            }
        }
        if !missing.isEmpty {
            for product in try catalogue.products(at: missing) {
                let json = try JSONCoding.encode(product)
                cache.store(json, status: product.status, for: product.id.rawValue, skus: product.variants.map(\.sku), loadedAt: loadedAt)
                if query.status.map({ $0 == product.status }) ?? true { parts[product.id.rawValue] = json }
            }
        }
        var out = Array(#"{"items":["#.utf8)
        var first = true
        for hit in page {
            guard let json = parts[hit.id] else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: json)
        }
        out.append(contentsOf: #"],"next_cursor":"#.utf8)
        out.append(contentsOf: (next.map { "\"\($0)\"" } ?? "null").utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
