public import ShopfloorJSON

/// A saved customer filter (API.md, Segments), its members counted when read.
public struct Segment: Sendable, Equatable {
    public var id: SegmentID
    public var name: String
    /// The filter as the shop wrote it, relative times and all.
    public var definition: JSONValue
    public var createdAt: String
    public var updatedAt: String

    public init(id: SegmentID, name: String, definition: JSONValue, createdAt: String, updatedAt: String) {
        self.id = id
        self.name = name
        self.definition = definition
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where segments live.
public protocol SegmentStore: Sendable {
    func segment(_ id: SegmentID) throws -> Segment?
    /// Segments, newest first, before position `before`.
    func segments(before: Int64, limit: Int) throws -> [(position: Int64, segment: Segment)]
    func insert(_ segment: Segment, in transaction: any WriteTransaction) throws
    func update(_ segment: Segment, in transaction: any WriteTransaction) throws
    func delete(_ id: SegmentID, in transaction: any WriteTransaction) throws -> Bool
}

/// Where shopper sign-in codes and sessions live, as hashes only.
public protocol ShopperAuthStore: Sendable {
    /// The live code for `email`, if any.
    func code(for email: String, in transaction: any WriteTransaction) throws -> SignInCode?
    func saveCode(_ code: SignInCode, in transaction: any WriteTransaction) throws
    func session(tokenHash: [UInt8]) throws -> ShopperSession?
    func insertSession(_ session: ShopperSession, in transaction: any WriteTransaction) throws
    func extendSession(tokenHash: [UInt8], expiresAtMilliseconds: Int64, in transaction: any WriteTransaction) throws
    func deleteSession(tokenHash: [UInt8], in transaction: any WriteTransaction) throws
    /// Ends every session of the customer (erasure).
    func deleteSessions(of customer: CustomerID, in transaction: any WriteTransaction) throws
}

/// An emailed sign-in code as kept: its keyed hash, deadline, wrong tries, and how many codes the
/// address was sent in the current hour.
public struct SignInCode: Sendable, Equatable {
    public var email: String
    public var hash: [UInt8]
    public var expiresAtMilliseconds: Int64
    public var attempts: Int
    public var used: Bool
    public var windowStartMilliseconds: Int64
    public var issued: Int

    public init(email: String, hash: [UInt8], expiresAtMilliseconds: Int64, attempts: Int, used: Bool, windowStartMilliseconds: Int64, issued: Int) {
        self.email = email
        self.hash = hash
        self.expiresAtMilliseconds = expiresAtMilliseconds
        self.attempts = attempts
        self.used = used
        self.windowStartMilliseconds = windowStartMilliseconds
        self.issued = issued
    }
}

/// A signed-in shopper's session, found by the hash of its token.
public struct ShopperSession: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var customerID: CustomerID
    public var createdAt: String
    public var expiresAtMilliseconds: Int64

    public init(tokenHash: [UInt8], customerID: CustomerID, createdAt: String, expiresAtMilliseconds: Int64) {
        self.tokenHash = tokenHash
        self.customerID = customerID
        self.createdAt = createdAt
        self.expiresAtMilliseconds = expiresAtMilliseconds
    }
}
