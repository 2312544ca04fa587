import ShopfloorJSON
/// A SKU's stock: totals over every location and the figure that matters online.
public struct InventoryLevel: Codable, Sendable, Equatable {
    public var sku: String
    /// Units physically held, over all locations.
    public var onHand: Int
    /// Units held in active carts, over all locations.
    public var reserved: Int
    /// Units sellable online now: on hand minus reserved over the locations that fulfil online.
    public var available: Int
    public var locations: [LocationLevel]

    public init(sku: String, onHand: Int, reserved: Int, available: Int, locations: [LocationLevel]) {
        self.sku = sku
        self.onHand = onHand
        self.reserved = reserved
        self.available = available
        self.locations = locations
    }
}

/// A SKU's stock at one location.
public struct LocationLevel: Codable, Sendable, Equatable {
    /// The location's code.
    public var location: String
    public var onHand: Int
    public var reserved: Int
    public var available: Int

    public init(location: String, onHand: Int, reserved: Int, available: Int) {
        self.location = location
        self.onHand = onHand
        self.reserved = reserved
        self.available = available
    }
}

/// Why a SKU's on-hand count changed, recorded with every movement.
public enum AdjustmentReason: String, Codable, Sendable, CaseIterable {
    case received
    case soldInStore = "sold_in_store"
    case damaged
    case stocktake
    case returned
    case correction
}

/// One recorded change of on-hand stock: who, when, why, before and after.
public struct StockMovement: Codable, Sendable, Equatable {
    public var id: Int64
    public var sku: String
    public var location: String
    public var reason: String
    public var delta: Int
    public var onHandBefore: Int
    public var onHandAfter: Int
    public var actor: String
    public var note: String?
    public var at: String

    public init(id: Int64, sku: String, location: String, reason: String, delta: Int, onHandBefore: Int, onHandAfter: Int, actor: String, note: String?, at: String) {
        self.id = id
        self.sku = sku
        self.location = location
        self.reason = reason
        self.delta = delta
        self.onHandBefore = onHandBefore
        self.onHandAfter = onHandAfter
        self.actor = actor
        self.note = note
        self.at = at
    }
}

/// The payload of `stock.changed`.
struct StockChanged: Encodable {
    var sku: String
    var available: Int
    var onHand: Int
    var reserved: Int
    var location: String
}

/// Written by hand: every stock change appends one, on the writer thread.
extension StockChanged: DirectJSONEncodable {
    func writeJSON(into object: inout JSONObjectWriter) {
        object.string("sku", sku)
        object.integer("available", Int64(available))
        object.integer("on_hand", Int64(onHand))
        object.integer("reserved", Int64(reserved))
        object.string("location", location)
    }
}

/// Inventory failures.
public enum InventoryError: Error, Equatable {
    case unknownSKU(String)
    case unknownLocation(String)
    /// The change would leave fewer units on hand than are reserved there (or below zero).
    case belowReserved(sku: String, location: String, reserved: Int, onHand: Int)
    /// A `pos` key may only change its own location's stock.
    case otherLocation(String)
    /// Fewer units are free than asked for; `available` is the true number free now.
    case insufficientStock(sku: String, available: Int)
}
