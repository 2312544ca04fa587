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

    public init(id: LocationID, code: String, name: String, kind: Kind, fulfilsOnline: Bool, createdAt: String) {
        self.id = id
        self.code = code
        self.name = name
        self.kind = kind
        self.fulfilsOnline = fulfilsOnline
        self.createdAt = createdAt
    }
}

/// Location failures.
public enum LocationError: Error, Equatable {
    case duplicateCode(String)
    case notFound(String)
}

extension UInt8 {
    /// Lowercase letters, digits, `-` and `_`: safe in URLs and logs.
    var isCodeCharacter: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
            || self == UInt8(ascii: "-") || self == UInt8(ascii: "_")
    }
}
