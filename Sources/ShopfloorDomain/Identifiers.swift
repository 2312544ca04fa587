import ShopfloorCrypto

/// An opaque identifier with a type prefix (API.md): `prod_…`, `loc_…`. New ones carry 128 random
/// bits, so ids that are capabilities (carts, tracking tokens) cannot be guessed.
public protocol EntityID: RawRepresentable<String>, Codable, Hashable, Sendable, CustomStringConvertible {
    static var prefix: String { get }
    init(rawValue: String)
}

extension EntityID {
    /// A new random id.
    public static func make() -> Self { Self(rawValue: "\(prefix)_\(SecureRandom.base32(16))") }

    /// A new id that sorts after those made earlier: the time in milliseconds, then 80 random bits.
    /// Rows made in bulk (a weekly run's proposals) then go to the end of the id's index rather than
    /// to a random page each, which would dirty (and write to the WAL) a page per row.
    public static func makeOrdered(at milliseconds: Int64) -> Self {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
        let time = (0..<10).reversed().map { alphabet[Int((UInt64(max(0, milliseconds)) >> UInt64($0 * 5)) & 31)] }
        return Self(rawValue: "\(prefix)_\(String(decoding: time, as: UTF8.self))\(SecureRandom.base32(10))")
    }
    public var description: String { rawValue }
}

public struct ProductID: EntityID {
    public static let prefix = "prod"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct VariantID: EntityID {
    public static let prefix = "var"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct LocationID: EntityID {
    public static let prefix = "loc"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct APIKeyID: EntityID {
    public static let prefix = "key"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct CartID: EntityID {
    public static let prefix = "cart"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct CartLineID: EntityID {
    public static let prefix = "line"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct DiscountID: EntityID {
    public static let prefix = "disc"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct TaxRateID: EntityID {
    public static let prefix = "tax"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct ShippingMethodID: EntityID {
    public static let prefix = "ship"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct OrderID: EntityID {
    public static let prefix = "ord"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct PaymentID: EntityID {
    public static let prefix = "pay"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct CustomerID: EntityID {
    public static let prefix = "cus"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct SegmentID: EntityID {
    public static let prefix = "seg"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A browser or app install, as a storefront names it on the event channel (`hello`).
public struct VisitorID: EntityID {
    public static let prefix = "vis"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// The shop's conversation with one visitor.
public struct ConversationID: EntityID {
    public static let prefix = "cnv"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}
