public import Foundation
public import ShopfloorJSON

/// What a storefront reports a visitor doing (`track` on the event channel, `POST /v1/activity`).
public enum ActivityKind: String, Sendable, CaseIterable {
    case pageViewed = "page.viewed"
    case productViewed = "product.viewed"
    case search
    case pageHidden = "page.hidden"
    case pageVisible = "page.visible"
    case checkoutStep = "checkout.step"
}

/// One reported action, checked: its kind and the fields of its data that the server reads.
public struct Activity: Sendable, Equatable {
    public var kind: ActivityKind
    /// `page.viewed`.
    public var path: String?
    public var title: String?
    /// `product.viewed`.
    public var productID: ProductID?
    /// `search`.
    public var query: String?
    /// `checkout.step`.
    public var step: String?
    /// The data as sent, encoded once (its size is checked on it), stored with the activity.
    public var dataJSON: String

    /// Largest encoded `data` accepted, in bytes.
    public static let maxDataBytes = 2048

    /// Checks `data` for `kind`; throws a ``ValidationError`` naming the field.
    public init(kind: ActivityKind, data: JSONValue?, field: String = "data") throws {
        self.kind = kind
        let data = data ?? .object([:], order: [])
        guard case .object(let object, _) = data else { throw ValidationError(field: field, detail: "must be an object") }
        guard let encoded = try? JSONCoding.encode(data, capacity: 256), encoded.count <= Self.maxDataBytes else {
            throw ValidationError(field: field, detail: "must be at most \(Self.maxDataBytes) bytes of JSON")
        }
        dataJSON = String(decoding: encoded, as: UTF8.self)
        func text(_ key: String, max: Int, required: Bool) throws -> String? {
            switch object[key] {
            case .string(let value) where !value.isEmpty && value.count <= max: return value
            case nil where !required, .null? where !required: return nil
            default: throw ValidationError(field: "\(field).\(key)", detail: required ? "is required: a string of 1 to \(max) characters" : "must be a string of 1 to \(max) characters")
            }
        }
        switch kind {
        case .pageViewed:
            path = try text("path", max: 500, required: true)
            title = try text("title", max: 200, required: false)
        case .productViewed:
            guard let id = try text("product_id", max: 64, required: true), id.hasPrefix("prod_") else {
                throw ValidationError(field: "\(field).product_id", detail: "must be a product id (prod_…)")
            }
            productID = ProductID(rawValue: id)
        case .search:
            query = try text("query", max: 200, required: true)
        case .checkoutStep:
            step = try text("step", max: 40, required: true)
        case .pageHidden, .pageVisible:
            break
        }
    }
}

/// An action as reported, with the time the storefront says it happened (`POST /v1/activity`'s
/// `at`), if any.
public struct ReportedActivity: Sendable {
    public var activity: Activity
    public var at: Date?

    public init(_ activity: Activity, at: Date? = nil) {
        self.activity = activity
        self.at = at
    }
}
