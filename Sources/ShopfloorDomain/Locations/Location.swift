import Foundation
import ShopfloorStorage

/// A place that holds stock: a shop (whose tills sell from it) or a warehouse.
public struct Location: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case store, warehouse
    }

    public var id: LocationID
    /// Short unique handle used in URLs and requests (`main`, `leeds`).
    public var code: String
    public var name: String
    public var kind: Kind
    /// Whether online orders may reserve its stock; online availability sums these locations.
    public var fulfilsOnline: Bool
    public var createdAt: String
}

/// Location failures.
public enum LocationError: Error, Equatable {
    case duplicateCode(String)
    case notFound(String)
}

extension Location {
    init(row: SQLiteConnection.Row) {
        self.init(
            id: LocationID(rawValue: row["id"]?.string ?? ""), code: row["code"]?.string ?? "",
            name: row["name"]?.string ?? "", kind: Kind(rawValue: row["kind"]?.string ?? "") ?? .store,
            fulfilsOnline: row["fulfils_online"]?.int == 1, createdAt: row["created_at"]?.string ?? "")
    }
}

extension UInt8 {
    /// Lowercase letters, digits, `-` and `_`: safe in URLs and logs.
    var isCodeCharacter: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
            || self == UInt8(ascii: "-") || self == UInt8(ascii: "_")
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
