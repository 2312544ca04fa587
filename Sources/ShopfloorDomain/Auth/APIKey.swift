/// What a key may do (API.md, Auth).
public enum Role: String, Codable, Sendable, CaseIterable {
    /// Everything.
    case admin
    /// A till: sells, adjusts its own location's stock, looks up customers.
    case pos
    /// A publishable key for public calls.
    case storefront
}

/// An API key as listed: never its secret, which is shown once when issued.
public struct APIKey: Codable, Sendable, Equatable {
    public var id: APIKeyID
    public var name: String
    public var role: Role
    /// The location code a `pos` key is bound to.
    public var location: String?
    public var createdAt: String

    public init(id: APIKeyID, name: String, role: Role, location: String?, createdAt: String) {
        self.id = id
        self.name = name
        self.role = role
        self.location = location
        self.createdAt = createdAt
    }
}

/// The caller a request was authenticated as.
public struct Principal: Sendable, Equatable {
    public var keyID: APIKeyID
    public var role: Role
    /// The location a `pos` key sells from.
    public var locationID: LocationID?

    /// How the actor appears in movements and order history.
    public var actor: String { "\(role.rawValue):\(keyID.rawValue)" }

    public init(keyID: APIKeyID, role: Role, locationID: LocationID?) {
        self.keyID = keyID
        self.role = role
        self.locationID = locationID
    }
}

/// Authentication and key management failures.
public enum AuthError: Error, Equatable {
    /// The key is unknown or revoked.
    case invalidKey
    /// No such key to revoke.
    case keyNotFound(String)
    /// A `pos` key names its location; other roles must not.
    case locationRequired
}
