import Foundation
import ShopfloorJSON

/// Products and variants: create, read, search, update, delete. Every change is committed with its
/// `product.*` event, and reaches the in-memory search index once that commit is on disk.
public struct CatalogueService: Sendable {
    private let store: any CatalogueStore
    private let locations: any LocationStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let ledger: StockLedger
    private let clock: any WallClock
    private let index = ProductSearchIndex()
    private let searches = SearchCache()

    /// Loads the search index from the store (every product, a page at a time), having first asked
    /// the writer for each commit's index changes. Only this service writes products, and it does
    /// not exist until the load is done, so no change can fall between the two.
    public init(stores: Stores, events: EventLog, clock: any WallClock = SystemClock()) throws {
        store = stores.catalogue
        locations = stores.locations
        writer = stores.writer
        self.events = events
        self.clock = clock
        ledger = StockLedger(store: stores.stock, events: events, clock: clock)
        stores.writer.observeCommits { [index] transaction -> (@Sendable () -> Void)? in
            let changes = transaction.transactionNotes.compactMap { $0 as? ProductSearchIndex.Change }
            guard !changes.isEmpty else { return nil }
            return { index.apply(changes) }
        }
        var after: Int64 = 0
        while true {
            let documents = try store.searchDocuments(after: after, limit: 1000)
            index.apply(documents.map { .put($0) })
            guard documents.count == 1000, let last = documents.last else { break }
            after = last.seq
        }
        index.relayout()
    }

    // MARK: Writes

    public func create(_ input: NewProduct, actor: String) async throws -> Product {
        try await create([input], actor: actor, fieldsUnderProducts: false)[0]
    }

    /// Creates products in one transaction (bulk import): all or none. Variants with `initial_stock`
    /// get those units recorded as `received` at each named location.
    public func create(_ inputs: [NewProduct], actor: String, fieldsUnderProducts: Bool = true) async throws -> [Product] {
        var validator = Validator()
        validator.check((1...1000).contains(inputs.count), "products", "must hold 1 to 1000 products")
        try validator.throwIfAny()
        for (index, input) in inputs.enumerated() {
            do {
                try Self.validate(input)
            } catch {
                throw ValidationError(error.errors.map { FieldError(field: fieldsUnderProducts ? "products[\(index)].\($0.field)" : $0.field, detail: $0.detail) })
            }
        }
        let now = clock.timestamp
        let products = inputs.map { input in
            Product(
                id: .make(), title: input.title, description: input.description, category: input.category,
                tags: input.tags ?? [], images: input.images ?? [], status: input.status ?? .active,
                variants: input.variants.map { Variant(new: $0) }, createdAt: now, updatedAt: now)
        }
        return try await writer.write { transaction in
            try self.requireUnused(skus: inputs.flatMap { $0.variants.map(\.sku) }, barcodes: inputs.flatMap { $0.variants.compactMap(\.barcode) },
                                   exceptProduct: nil, in: transaction)
            var stored: [Product] = []
            for (product, input) in zip(products, inputs) {
                let seq = try self.store.insert(product, in: transaction)
                let created = try self.reload(product.id, in: transaction)
                transaction.transactionNotes.append(ProductSearchIndex.Change.put(ProductSearchDocument(seq: seq, product: created)))
                // The product is announced before the stock it arrives with.
                try self.events.append(type: "product.created", topic: Self.topic(of: product.id, shown: created.status == .active),
                                       data: created, in: transaction)
                for variant in input.variants { try self.receiveInitialStock(variant, actor: actor, in: transaction) }
                stored.append(try self.reload(product.id, in: transaction))
            }
            return stored
        }
    }

    public func update(_ id: ProductID, _ patch: ProductPatch, actor: String) async throws -> Product {
        var validator = Validator()
        if let title = patch.title { validator.text(title, "title", max: 200) }
        Self.validateOptionalFields(description: patch.description, category: patch.category, tags: patch.tags, images: patch.images, &validator)
        let variants = patch.variants ?? []
        for (index, variant) in variants.enumerated() {
            Self.validateVariant(sku: variant.sku, title: variant.title, price: variant.price, attributes: variant.attributes,
                                 barcode: variant.barcode, threshold: variant.lowStockThreshold, initialStock: variant.initialStock,
                                 "variants[\(index)]", &validator)
        }
        validator.check(Set(variants.map(\.sku)).count == variants.count, "variants", "SKUs must be unique")
        try validator.throwIfAny()
        let now = clock.timestamp
        return try await writer.write { transaction in
            guard let found = try self.store.product(id, in: transaction) else { throw CatalogueError.productNotFound(id.rawValue) }
            let seq = found.seq
            var current = found.product
            let wasShown = current.status == .active
            if let title = patch.title { current.title = title }
            if let description = patch.description { current.description = description }
            if let category = patch.category { current.category = category }
            if let tags = patch.tags { current.tags = tags }
            if let images = patch.images { current.images = images }
            if let status = patch.status { current.status = status }
            current.updatedAt = now
            let added = variants.filter { variant in !current.variants.contains { $0.sku == variant.sku } }
            guard current.variants.count + added.count <= 100 else {
                throw ValidationError(field: "variants", detail: "a product holds at most 100 variants")
            }
            for (index, variant) in added.enumerated() where variant.price == nil {
                throw ValidationError(field: "variants[\(variants.firstIndex { $0.sku == variant.sku } ?? index)].price", detail: "is required for a new variant")
            }
            try self.requireUnused(skus: added.map(\.sku), barcodes: variants.compactMap(\.barcode), exceptProduct: seq, in: transaction)
            for variant in variants {
                if let existing = current.variants.first(where: { $0.sku == variant.sku }) {
                    try self.store.update(existing.id, with: variant, in: transaction)
                }
            }
            var new: [NewVariant] = []
            for (offset, variant) in added.enumerated() {
                let created = NewVariant(
                    sku: variant.sku, title: variant.title, price: variant.price!, attributes: variant.attributes, barcode: variant.barcode,
                    lowStockThreshold: variant.lowStockThreshold, initialStock: variant.initialStock)
                let stored = Variant(new: created)
                try self.store.insert(stored, productSeq: seq, position: current.variants.count + offset, in: transaction)
                current.variants.append(stored)
                new.append(created)
            }
            try self.store.update(current, seq: seq, in: transaction)
            let updated = try self.reload(id, in: transaction)
            transaction.transactionNotes.append(ProductSearchIndex.Change.put(ProductSearchDocument(seq: seq, product: updated)))
            // Leaving the shop is said where shoppers listen, so storefronts drop it.
            try self.events.append(type: "product.updated", topic: Self.topic(of: id, shown: wasShown || updated.status == .active),
                                   data: updated, in: transaction)
            for variant in new { try self.receiveInitialStock(variant, actor: actor, in: transaction) }
            return try self.reload(id, in: transaction)
        }
    }

    /// Deletes a product and its variants; refused while any of its units are reserved.
    public func delete(_ id: ProductID) async throws {
        try await writer.write { transaction in
            guard let found = try self.store.product(id, in: transaction) else { throw CatalogueError.productNotFound(id.rawValue) }
            let seq = found.seq
            guard try self.store.reservedUnits(ofProduct: seq, in: transaction) == 0 else { throw CatalogueError.productInUse(id.rawValue) }
            // The SKUs are free for reuse: their stock goes with them (movements stay as history).
            let skus = try self.store.delete(productSeq: seq, in: transaction)
            transaction.transactionNotes.append(ProductSearchIndex.Change.remove(seq: seq))
            try self.events.append(type: "product.deleted", topic: Self.topic(of: id, shown: found.product.status == .active),
                                   data: ProductDeleted(id: id.rawValue, skus: skus), in: transaction)
        }
    }

    /// A product's events go to `product:<id>` (public) while it is in the shop, and to `draft:<id>`
    /// (admins) while it is a draft or archived: a shop's unpublished work is not for everyone.
    static func topic(of id: ProductID, shown: Bool) -> String {
        shown ? "product:\(id)" : "draft:\(id)"
    }

    private func reload(_ id: ProductID, in transaction: any WriteTransaction) throws -> Product {
        guard let product = try store.product(id, in: transaction)?.product else { throw CatalogueError.productNotFound(id.rawValue) }
        return product
    }

    // MARK: Reads

    public func product(_ id: ProductID) throws -> Product? {
        try store.product(id)
    }

    /// A page of products matching `query`: ranked by relevance when searching, else in creation order.
    public func products(_ query: ProductQuery) throws -> Page<Product> {
        let (page, next) = try search(query)
        return Page(items: try store.products(at: page.map(\.seq)), nextCursor: next)
    }

    /// The products at these positions (as ``search(_:)`` gives them), in that order.
    public func products(at positions: [Int64]) throws -> [Product] {
        try store.products(at: positions)
    }

    /// The requested page's hits, from the search cache when the same query ran since the catalogue
    /// last changed.
    public func search(_ query: ProductQuery) throws -> (page: [ProductHit], next: String?) {
        guard !query.inStock else { return try match(query) }
        let key = query.cacheKey
        let version = index.version
        if let cached = searches.page(for: key, version: version) { return (cached.hits, cached.next) }
        let (hits, next) = try match(query)
        searches.store(SearchCache.Page(hits: hits, next: next), for: key, version: version)
        return (hits, next)
    }

    /// The deepest offset a search pages to: further is past anything a person reads.
    static let maxSearchOffset = 10_000

    /// The products on the requested page, in order, and the cursor of the next page: ranked by the
    /// search index when the query has words, else listed by the store in the order created.
    private func match(_ query: ProductQuery) throws -> (page: [ProductHit], next: String?) {
        let limit = max(1, min(query.limit, 200))
        guard let words = query.searchWords else {
            let (hits, more) = try store.list(query, limit: limit)
            guard more, let last = hits.last else { return (hits, nil) }
            return (hits, ProductQuery.Cursor.after(seq: last.seq).token)
        }
        let offset = if case .offset(let offset) = query.cursor { offset } else { 0 }
        guard offset <= Self.maxSearchOffset else { return ([], nil) }
        var filter = ProductSearchIndex.Filter(status: query.status, category: query.category, tag: query.tag)
        if let barcode = query.barcode {
            guard let seq = try store.productUsing(barcode: barcode) else { return ([], nil) }
            filter.seq = seq
        }
        let (hits, more) = if query.inStock {
            try inStock(words, filter: filter, offset: offset, limit: limit)
        } else {
            index.search(words, filter: filter, offset: offset, limit: limit)
        }
        return (hits, more && offset + limit <= Self.maxSearchOffset ? ProductQuery.Cursor.offset(offset + limit).token : nil)
    }

    /// The ranked hits that have stock online: the index ranks, the store says which are in stock,
    /// and the index is asked for more (four times as many each time) until the page fills, or the
    /// hits asked for pass ``maxSearchOffset`` (in-stock hits further down are not paged to: a
    /// search of one letter over a sold-out catalogue would otherwise check every product).
    private func inStock(_ words: [String], filter: ProductSearchIndex.Filter, offset: Int, limit: Int) throws -> (hits: [ProductHit], more: Bool) {
        let ceiling = Self.maxSearchOffset + limit + 1
        var wanted = min(2 * (offset + limit + 1), ceiling)
        while true {
            let ranked = index.search(words, filter: filter, offset: 0, limit: wanted)
            let stocked = try store.inStock(ranked.hits.map(\.seq))
            let kept = ranked.hits.filter { stocked.contains($0.seq) }
            if kept.count > offset + limit || !ranked.more || wanted == ceiling {
                return (Array(kept.dropFirst(offset).prefix(limit)), kept.count > offset + limit)
            }
            wanted = min(wanted * 4, ceiling)
        }
    }

    // MARK: Storage

    /// Records a new variant's `initial_stock` as units received at each named location.
    private func receiveInitialStock(_ variant: NewVariant, actor: String, in transaction: any WriteTransaction) throws {
        for (code, units) in (variant.initialStock ?? [:]).sorted(by: { $0.key < $1.key }) where units > 0 {
            guard let location = try locations.find(code, in: transaction), location.code == code else { throw InventoryError.unknownLocation(code) }
            try ledger.apply(
                StockLedger.Change(sku: variant.sku, location: location, onHandDelta: units, reason: AdjustmentReason.received.rawValue, actor: actor),
                in: transaction)
        }
    }

    /// Refuses SKUs or barcodes that another product (or, for a new product, any) already uses,
    /// naming the first one found.
    private func requireUnused(skus: [String], barcodes: [String], exceptProduct seq: Int64?, in transaction: any WriteTransaction) throws {
        for sku in skus {
            if let owner = try store.productUsing(sku: sku, in: transaction), seq == nil || owner != seq {
                throw CatalogueError.duplicateSKU(sku)
            }
        }
        for barcode in barcodes {
            if let owner = try store.productUsing(barcode: barcode, in: transaction), seq == nil || owner != seq {
                throw CatalogueError.duplicateBarcode(barcode)
            }
        }
    }

    // MARK: Validation

    static func validate(_ input: NewProduct) throws(ValidationError) {
        var validator = Validator()
        validator.text(input.title, "title", max: 200)
        validateOptionalFields(description: input.description, category: input.category, tags: input.tags, images: input.images, &validator)
        validator.check((1...100).contains(input.variants.count), "variants", "must hold 1 to 100 variants")
        for (index, variant) in input.variants.enumerated() { validate(variant, "variants[\(index)]", &validator) }
        let skus = input.variants.map(\.sku)
        validator.check(Set(skus).count == skus.count, "variants", "SKUs must be unique")
        let barcodes = input.variants.compactMap(\.barcode)
        validator.check(Set(barcodes).count == barcodes.count, "variants", "barcodes must be unique")
        try validator.throwIfAny()
    }

    private static func validateOptionalFields(description: String?, category: String?, tags: [String]?, images: [String]?, _ validator: inout Validator) {
        validator.text(description, "description", max: 10_000, required: false)
        validator.text(category, "category", max: 100, required: false)
        if let tags {
            validator.check(tags.count <= 50, "tags", "must hold at most 50 tags")
            for (index, tag) in tags.enumerated() { validator.text(tag, "tags[\(index)]", max: 50) }
        }
        if let images {
            validator.check(images.count <= 20, "images", "must hold at most 20 URLs")
            for (index, image) in images.enumerated() {
                validator.check(image.utf8.count <= 2000 && isWebURL(image), "images[\(index)]", "must be an http or https URL")
            }
        }
    }

    private static func validate(_ variant: NewVariant, _ path: String, _ validator: inout Validator) {
        validateVariant(sku: variant.sku, title: variant.title, price: variant.price, attributes: variant.attributes, barcode: variant.barcode,
                        threshold: variant.lowStockThreshold, initialStock: variant.initialStock, path, &validator)
    }

    private static func validateVariant(sku: String, title: String?, price: Money?, attributes: [String: String]?, barcode: String?,
                                        threshold: Int?, initialStock: [String: Int]?, _ path: String, _ validator: inout Validator) {
        validator.check(isValidSKU(sku), "\(path).sku", "must be 1 to 64 letters, digits, '-', '_' or '.'")
        validator.text(title, "\(path).title", max: 200, required: false)
        if let price {
            validator.check((0...100_000_000_000).contains(price.amount), "\(path).price.amount",
                            "must be a whole number of minor units from 0 to 100000000000")
        }
        if let attributes {
            validator.check(attributes.count <= 20, "\(path).attributes", "must hold at most 20 attributes")
            for (key, value) in attributes {
                validator.check((1...50).contains(key.unicodeScalars.count), "\(path).attributes", "names must be 1 to 50 characters")
                validator.check(!key.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(path).attributes",
                                "names must not contain control characters")
                validator.text(value, "\(path).attributes.\(key)", max: 200)
            }
        }
        if let barcode {
            validator.check(isValidBarcode(barcode), "\(path).barcode", "must be an EAN-8, UPC-A, EAN-13 or GTIN-14 with a valid check digit")
        }
        if let threshold {
            validator.check((0...1_000_000).contains(threshold), "\(path).low_stock_threshold", "must be from 0 to 1000000")
        }
        for (code, units) in initialStock ?? [:] {
            validator.check((0...100_000_000).contains(units), "\(path).initial_stock.\(code)", "must be a whole number from 0 to 100000000")
        }
    }

    /// An absolute `http` or `https` URL with a host, that parses (RFC 3986).
    static func isWebURL(_ text: String) -> Bool {
        guard !text.contains(where: { $0.isWhitespace }), let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty
        else { return false }
        return true
    }

    /// 1 to 64 of letters, digits, `-`, `_` and `.`.
    public static func isValidSKU(_ sku: String) -> Bool {
        (1...64).contains(sku.utf8.count) && sku.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".")
        }
    }

    /// GS1 check digit: from the right, digits weigh 3, 1, 3, …; the total is a multiple of 10.
    static func isValidBarcode(_ barcode: String) -> Bool {
        let digits = barcode.utf8.map { Int($0) - 48 }
        guard [8, 12, 13, 14].contains(digits.count), digits.allSatisfy({ (0...9).contains($0) }) else { return false }
        let sum = digits.reversed().enumerated().reduce(0) { $0 + $1.element * ($1.offset % 2 == 0 ? 1 : 3) }
        return sum % 10 == 0
    }
}

extension Variant {
    init(new: NewVariant) {
        self.init(
            id: .make(), sku: new.sku, title: new.title, price: new.price, attributes: new.attributes ?? [:],
            barcode: new.barcode, lowStockThreshold: new.lowStockThreshold, available: 0)
    }
}

/// The payload of `product.deleted`: the SKUs that went with it.
struct ProductDeleted: Codable {
    var id: String
    var skus: [String]
}
