public import ShopfloorStorage

/// Locations: creation and lookup by id or code.
public struct LocationService: Sendable {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(code: String, name: String, kind: Location.Kind, fulfilsOnline: Bool) async throws -> Location {
        var validator = Validator()
        validator.check(code.utf8.count <= 32 && !code.isEmpty && code.utf8.allSatisfy(\.isCodeCharacter), "code",
                        "must be 1 to 32 lowercase letters, digits, '-' or '_'")
        validator.text(name, "name", max: 200)
        try validator.throwIfAny()
        let location = Location(id: .make(), code: code, name: name, kind: kind, fulfilsOnline: fulfilsOnline, createdAt: Timestamp.now)
        do {
            try await database.writer.write { connection in
                try connection.run(
                    "INSERT INTO locations (id, code, name, kind, fulfils_online, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [.text(location.id.rawValue), .text(code), .text(name), .text(kind.rawValue),
                     .integer(fulfilsOnline ? 1 : 0), .text(location.createdAt)])
                try EventLog.append(connection, type: "location.created", topic: "locations", data: location)
            }
        } catch let error as SQLiteError where error.isUniqueViolation {
            throw LocationError.duplicateCode(code)
        }
        return location
    }

    public func all() throws -> [Location] {
        try database.readers.read { connection in
            try connection.query("SELECT * FROM locations ORDER BY rowid").map(Location.init(row:))
        }
    }

    /// The location with this code, or with this id.
    public func find(_ codeOrID: String) throws -> Location? {
        try database.readers.read { connection in
            try connection.query("SELECT * FROM locations WHERE code = ? OR id = ?", [.text(codeOrID), .text(codeOrID)])
                .first.map(Location.init(row:))
        }
    }
}
