import Foundation
public import ShopfloorStorage

/// The SQLite writer's connection is the transaction its jobs receive. Here while Domain services not
/// yet behind their stores still write through the connection; it moves to `ShopfloorSQLite` with the last.
extension SQLiteConnection: WriteTransaction {}

extension WriteTransaction {
    /// The connection behind the transaction, for the services that still write SQL themselves.
    var sqlite: SQLiteConnection { unsafeDowncast(self, to: SQLiteConnection.self) }
}

extension Location {
    init(row: SQLiteConnection.Row) {
        self.init(
            id: LocationID(rawValue: row["id"]?.string ?? ""), code: row["code"]?.string ?? "",
            name: row["name"]?.string ?? "", kind: Kind(rawValue: row["kind"]?.string ?? "") ?? .store,
            fulfilsOnline: row["fulfils_online"]?.int == 1, createdAt: row["created_at"]?.string ?? "")
    }
}

extension SQLiteError {
    /// A UNIQUE or PRIMARY KEY constraint failed.
    var isUniqueViolation: Bool { code == 2067 || code == 1555 }

    /// The `table.column` a unique violation names, from SQLite's message.
    var violatedColumn: String? {
        message.components(separatedBy: "failed: ").last
    }
}
