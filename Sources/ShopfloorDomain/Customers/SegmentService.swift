public import ShopfloorJSON

/// Saved segments (API.md, Segments): a name and a filter, counted over the customers when read.
public final class SegmentService: Sendable {
    private let store: any SegmentStore
    private let customers: CustomerService

    public init(stores: Stores, customers: CustomerService) {
        store = stores.segments
        self.customers = customers
    }

    public func create(name: String, filter: JSONValue) async throws -> Segment {
        try check(name: name, filter: filter)
        let now = customers.clock.timestamp
        let segment = Segment(id: .make(), name: name, definition: filter, createdAt: now, updatedAt: now)
        try await customers.writer.write { transaction in try self.store.insert(segment, in: transaction) }
        return segment
    }

    public func update(_ id: SegmentID, name: String?, filter: JSONValue?) async throws -> Segment {
        var segment = try self.segment(id)
        if let name { segment.name = name }
        if let filter { segment.definition = filter }
        try check(name: segment.name, filter: segment.definition)
        segment.updatedAt = customers.clock.timestamp
        let changed = segment
        try await customers.writer.write { transaction in try self.store.update(changed, in: transaction) }
        return changed
    }

    public func delete(_ id: SegmentID) async throws {
        let deleted = try await customers.writer.write { transaction in try self.store.delete(id, in: transaction) }
        if !deleted { throw CustomerError.segmentNotFound(id.rawValue) }
    }

    public func segment(_ id: SegmentID) throws -> Segment {
        guard let segment = try store.segment(id) else { throw CustomerError.segmentNotFound(id.rawValue) }
        return segment
    }

    public func segments(limit: Int, before: Int64?) throws -> Page<Segment> {
        let limit = max(1, min(limit, 200))
        let found = try store.segments(before: before ?? Int64.max, limit: limit + 1)
        return Page(found, limit: limit, position: \.position, item: \.segment)
    }

    /// How many customers the segment holds now (relative times resolved to this moment).
    public func count(_ segment: Segment) throws -> Int {
        try count(filter: segment.definition)
    }

    /// How many customers `filter` would hold now, for a segment being written (the back office
    /// shows the count as the filter changes); an invalid filter fails as it would on save.
    public func count(filter: JSONValue) throws -> Int {
        try customers.store.count(try SegmentFilter.parse(filter, currency: customers.currency).resolved(now: customers.clock.now()))
    }

    /// The filter an export of `segment` reads (every customer without one), its times resolved once,
    /// so that every page of one export selects by the same instant.
    public func exportFilter(_ segment: SegmentID?) throws -> SegmentFilter? {
        try segment.map { try customers.filter(of: $0) }
    }

    /// An export's rows, oldest first, a page at a time after `after` (a row's `position`).
    public func exportRows(_ filter: SegmentFilter?, after: Int64, limit: Int) throws -> [CustomerExportRow] {
        try customers.store.exportRows(filter, after: after, limit: limit)
    }

    private func check(name: String, filter: JSONValue) throws {
        var validator = Validator()
        validator.text(name, "name", max: 200)
        try validator.throwIfAny()
        _ = try SegmentFilter.parse(filter, currency: customers.currency)
    }
}
