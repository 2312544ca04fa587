import Foundation
public import ShopfloorStorage
import ShopfloorCrypto

/// The hand-over of a till cart that the customer paid on their own phone: the phone shows a
/// single-use 6-digit PIN, the salesperson types it at the till, and the order is delivered there.
///
/// PINs are stored as SHA-256 of the order id and the PIN, live ten minutes, and allow five wrong
/// tries; the till may name the cart to aim its tries at one order, else a wrong PIN counts against
/// every open hand-over at its location.
public struct POSHandover: Sendable {
    public static let lifetime: Int64 = 10 * 60 * 1000
    public static let maxAttempts = 5

    private let database: Database
    private let events: EventLog

    public init(database: Database, events: EventLog) {
        self.database = database
        self.events = events
    }

    /// Makes a PIN for `order` at `location` inside the completion's transaction and returns it.
    static func issue(for order: OrderID, location: String, _ connection: SQLiteConnection) throws -> String {
        let pin = randomPIN()
        try connection.run(
            "INSERT INTO pos_handovers (order_id, location_id, pin_hash, expires_at_ms) VALUES (?, ?, ?, ?)",
            [.text(order.rawValue), .text(location), .blob(hash(pin, order: order)), .integer(nowMilliseconds() + lifetime)])
        return pin
    }

    public enum Failure: Error, Equatable {
        /// Wrong, used or expired: the three look the same to the till, on purpose.
        case refused
    }

    /// Delivers the order whose PIN this is, at the till's location.
    public func handOver(pin: String, cart: CartID?, location: LocationID, actor: String) async throws -> Order {
        let now = Self.nowMilliseconds()
        let result: Result<Order, Failure> = try await database.writer.write { connection in
            var sql = """
                SELECT h.order_id, h.pin_hash FROM pos_handovers h JOIN orders o ON o.id = h.order_id
                WHERE h.location_id = ? AND h.used_at IS NULL AND h.expires_at_ms > ? AND h.attempts < ?
                """
            var bindings: [SQLiteValue] = [.text(location.rawValue), .integer(now), .integer(Int64(Self.maxAttempts))]
            if let cart {
                sql += " AND o.cart_id = ?"
                bindings.append(.text(cart.rawValue))
            }
            let open = try connection.query(sql, bindings)
            let valid = pin.utf8.count == 6 && pin.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            let match = open.first { row in
                guard valid, case .blob(let stored)? = row["pin_hash"], let id = row["order_id"]?.string else { return false }
                return Digest.constantTimeEquals(stored, Self.hash(pin, order: OrderID(rawValue: id)))
            }
            guard let match, let id = match["order_id"]?.string.map(OrderID.init(rawValue:)) else {
                for row in open {
                    try connection.run("UPDATE pos_handovers SET attempts = attempts + 1 WHERE order_id = ?", [.optional(row["order_id"]?.string)])
                }
                return .failure(.refused)
            }
            try connection.run("UPDATE pos_handovers SET used_at = ? WHERE order_id = ?", [.text(Timestamp.now), .text(id.rawValue)])
            try OrderService.record(id, status: .delivered, actor: actor, note: "handed over at the till", trackingNumber: nil, events: events, connection)
            return .success(try OrderService.load(id, connection)!)
        }
        return try result.get()
    }

    /// Six digits, uniform: random 32-bit values at or above the last whole multiple of a million are drawn again.
    private static func randomPIN() -> String {
        while true {
            let value = SecureRandom.bytes(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if value < 4_294_000_000 {
                let digits = String(value % 1_000_000)
                return String(repeating: "0", count: 6 - digits.count) + digits
            }
        }
    }

    private static func hash(_ pin: String, order: OrderID) -> [UInt8] {
        Digest.sha256(Array("\(order.rawValue):\(pin)".utf8))
    }

    private static func nowMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
