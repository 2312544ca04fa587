import Foundation
import ShopfloorCrypto

/// A ready cart of what one customer is about to run out of (API.md, Automation, Replenishment):
/// made by the weekly run, opened by the customer from a link, and confirmed, postponed or put on
/// their wishlist.
public struct Proposal: Sendable, Equatable {
    public var id: ProposalID
    public var customerID: CustomerID
    /// The weekly run that made it (its local date, `YYYY-MM-DD`): one proposal per customer per run.
    public var runKey: String
    public var items: [ProposalItem]
    public var status: ProposalStatus
    /// The cart a confirmation is being placed from (kept first, so a confirmation cut short is finished, not repeated).
    public var cartID: CartID?
    public var orderID: OrderID?
    public var createdAt: String
    public var decidedAt: String?
    /// Undecided by then, it lapses: next week's run proposes afresh.
    public var expiresAt: String

    public init(id: ProposalID, customerID: CustomerID, runKey: String, items: [ProposalItem], status: ProposalStatus, cartID: CartID? = nil,
                orderID: OrderID?, createdAt: String, decidedAt: String?, expiresAt: String) {
        self.cartID = cartID
        self.id = id
        self.customerID = customerID
        self.runKey = runKey
        self.items = items
        self.status = status
        self.orderID = orderID
        self.createdAt = createdAt
        self.decidedAt = decidedAt
        self.expiresAt = expiresAt
    }

    /// Its status as of `now`: an open proposal past its expiry is `expired`.
    public func status(at now: String) -> ProposalStatus {
        status == .open && now >= expiresAt ? .expired : status
    }
}

/// One line of a proposal: what, how many (the customer's usual quantity), at today's price.
public struct ProposalItem: Codable, Sendable, Equatable {
    public var sku: String
    public var title: String
    public var quantity: Int
    public var unitPrice: Money
    /// When the customer would run out, by their rhythm.
    public var dueAt: String

    public init(sku: String, title: String, quantity: Int, unitPrice: Money, dueAt: String) {
        self.sku = sku
        self.title = title
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.dueAt = dueAt
    }
}

public enum ProposalStatus: String, Sendable, Codable, CaseIterable {
    case open, confirmed, postponed, wishlisted, expired
}

public struct ProposalID: EntityID {
    public static let prefix = "prp"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// The public token of a proposal's link: its id and an HMAC of it under a key derived from the data
/// directory's `secrets.key`, so the link needs nothing stored and only the server can make one.
public struct ProposalLinks: Sendable {
    private let key: [UInt8]
    private let baseURL: String

    public init(secretsKey: [UInt8], publicURL: String) {
        key = HKDF.deriveKey(salt: [], inputKeyingMaterial: secretsKey, info: Array("shopfloor proposal links".utf8), length: 32)
        baseURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    public func token(for id: ProposalID) -> String {
        id.rawValue + "." + Base64URL.encode(mac(id))
    }

    /// Where the customer opens it: the storefront's proposal page.
    public func url(for id: ProposalID) -> String {
        "\(baseURL)/shop/?proposal=\(token(for: id))"
    }

    /// The proposal a token names, or `nil` when the server did not make it.
    public func proposal(ofToken token: String) -> ProposalID? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 200, parts.count == 2, parts[0].hasPrefix("prp_"), let given = try? Base64URL.decode(parts[1]) else { return nil }
        let id = ProposalID(rawValue: String(parts[0]))
        return Digest.constantTimeEquals(given, mac(id)) ? id : nil
    }

    private func mac(_ id: ProposalID) -> [UInt8] {
        Array(Digest.hmacSHA256(key: key, message: Array(id.rawValue.utf8)).prefix(16))
    }
}
