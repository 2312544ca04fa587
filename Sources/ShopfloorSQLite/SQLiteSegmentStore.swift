import ShopfloorDomain
import ShopfloorJSON
import ShopfloorStorage

/// Segments in table `segments` (migration 15), their filters as JSON text as the shop wrote them.
struct SQLiteSegmentStore: SegmentStore {
    let readers: ReaderPool

    func segment(_ id: SegmentID) throws -> Segment? {
        try readers.read { connection in
            try connection.query("SELECT * FROM segments WHERE id = ?", [.text(id.rawValue)]).first.map(Self.segment)
        }
    }

    func segments(before: Int64, limit: Int) throws -> [(position: Int64, segment: Segment)] {
        try readers.read { connection in
            try connection.query("SELECT * FROM segments WHERE position < ? ORDER BY position DESC LIMIT ?", [.integer(before), .integer(Int64(limit))])
                .map { (try StoredRow($0, table: "segments", keyColumn: "id").int64("position"), try Self.segment($0)) }
        }
    }

    func insert(_ segment: Segment, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "INSERT INTO segments (id, name, filter, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [.text(segment.id.rawValue), .text(segment.name), try .json(encoding: segment.definition), .text(segment.createdAt), .text(segment.updatedAt)])
    }

    func update(_ segment: Segment, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            "UPDATE segments SET name = ?, filter = ?, updated_at = ? WHERE id = ?",
            [.text(segment.name), try .json(encoding: segment.definition), .text(segment.updatedAt), .text(segment.id.rawValue)])
    }

    func delete(_ id: SegmentID, in transaction: any WriteTransaction) throws -> Bool {
        try transaction.connection.run("DELETE FROM segments WHERE id = ?", [.text(id.rawValue)]) > 0
    }

    private static func segment(_ values: SQLiteConnection.Row) throws -> Segment {
        let row = StoredRow(values, table: "segments", keyColumn: "id")
        guard let definition = try row.optionalJSONValue("filter") else { throw StoreError.badRow(table: "segments", key: row.key, column: "filter") }
        return Segment(id: try row.id("id", as: SegmentID.self), name: try row.text("name"), definition: definition,
                       createdAt: try row.text("created_at"), updatedAt: try row.text("updated_at"))
    }
}
