import ShopfloorDomain
import ShopfloorStorage

/// Locations in table `locations`.
struct SQLiteLocationStore: LocationStore {
    let readers: ReaderPool

    func insert(_ location: Location, in transaction: any WriteTransaction) throws {
        do {
            try transaction.connection.run(
                "INSERT INTO locations (id, code, name, kind, fulfils_online, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(location.id.rawValue), .text(location.code), .text(location.name), .text(location.kind.rawValue),
                 .integer(location.fulfilsOnline ? 1 : 0), .text(location.createdAt)])
        } catch let error where error.isUniqueViolation {
            throw LocationError.duplicateCode(location.code)
        }
    }

    func all() throws -> [Location] {
        try readers.read { connection in try connection.query("SELECT * FROM locations ORDER BY rowid").map(Self.location) }
    }

    func find(_ codeOrID: String) throws -> Location? {
        try readers.read { connection in try Self.find(codeOrID, connection) }
    }

    func find(_ codeOrID: String, in transaction: any WriteTransaction) throws -> Location? {
        try Self.find(codeOrID, transaction.connection)
    }

    private static func find(_ codeOrID: String, _ connection: SQLiteConnection) throws -> Location? {
        try connection.query("SELECT * FROM locations WHERE code = ? OR id = ?", [.text(codeOrID), .text(codeOrID)]).first.map(location)
    }

    /// A location from a row holding every column of `locations` (a join may add more).
    static func location(_ values: SQLiteConnection.Row) throws -> Location {
        let row = StoredRow(values, table: "locations", keyColumn: "id")
        return Location(
            id: try row.id("id", as: LocationID.self), code: try row.text("code"), name: try row.text("name"),
            kind: try row.value("kind", as: Location.Kind.self), fulfilsOnline: try row.bool("fulfils_online"),
            createdAt: try row.text("created_at"))
    }
}
