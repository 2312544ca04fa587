import Foundation
import ShopfloorCrypto

/// Shopper sign-in without passwords (API.md, Shopper accounts): a 6-digit code by email, then an
/// opaque `cst_…` session token; and the short-lived pass a signed-in shopper shows at the till.
///
/// Codes live 10 minutes and allow 5 wrong tries; they are kept as an HMAC under a key derived from
/// the server's `secrets.key` (a copied database alone cannot test the million codes offline) and
/// compared in constant time. An address gets at most 5 codes an hour; asking more answers the same,
/// so the answer never tells whether an address is known. Tokens are kept as SHA-256 (they carry 128
/// random bits) and slide: each use within 30 days of the last extension keeps them 30 more days.
public final class ShopperAuthService: Sendable {
    private let store: any ShopperAuthStore
    private let customers: CustomerService
    private let messages: MessageService
    private let codeKey: [UInt8]
    private let passKey: [UInt8]

    public static let codeLifetime: Int64 = 10 * 60_000
    public static let maxTries = 5
    public static let codesPerHour = 5
    public static let sessionLifetime: Int64 = 30 * 86_400_000
    /// How stale an extension may get before a use writes a new one: one write a day per session, not one per request.
    static let extensionStep: Int64 = 86_400_000
    public static let passLifetime: Int64 = 5 * 60_000
    public static let tokenPrefix = "cst_"
    public static let passPrefix = "pas_"

    public init(stores: Stores, customers: CustomerService, messages: MessageService, secretsKey: [UInt8]) {
        store = stores.shopperAuth
        self.customers = customers
        self.messages = messages
        codeKey = HKDF.deriveKey(salt: [], inputKeyingMaterial: secretsKey, info: Array("shopfloor sign-in codes".utf8), length: 32)
        passKey = HKDF.deriveKey(salt: [], inputKeyingMaterial: secretsKey, info: Array("shopfloor customer pass".utf8), length: 32)
    }

    private var clock: any WallClock { customers.clock }

    /// Emails a new code to `email` (replacing any earlier one), unless the address had its hourly share.
    public func requestCode(email: String) async throws {
        guard let address = ContactAddress.email(email) else { throw ValidationError(field: "email", detail: "must be an email address") }
        let code = SecureRandom.sixDigits()
        let now = clock.milliseconds
        try await customers.writer.write { transaction in
            let previous = try self.store.code(for: address, in: transaction)
            var windowStart = now
            var issued = 1
            if let previous, now - previous.windowStartMilliseconds < 3_600_000 {
                guard previous.issued < Self.codesPerHour else { return }
                windowStart = previous.windowStartMilliseconds
                issued = previous.issued + 1
            }
            try self.store.saveCode(
                SignInCode(email: address, hash: self.hash(code, email: address), expiresAtMilliseconds: now + Self.codeLifetime, attempts: 0,
                           used: false, windowStartMilliseconds: windowStart, issued: issued), in: transaction)
            let known = try self.customers.store.customer(email: address, in: transaction)
            try self.messages.queue(
                .init(channel: .email, recipient: address, template: "sign_in_code", locale: known?.locale, data: ["code": code],
                      customerID: known?.id.rawValue, transactional: true),
                in: transaction)
        }
    }

    /// Exchanges a right code for a session, making the customer on first sign-in. A wrong code counts
    /// a try; the fifth wrong one ends the code.
    public func signIn(email: String, code: String) async throws -> (token: String, expiresAt: String, customer: Customer) {
        guard let address = ContactAddress.email(email) else { throw ValidationError(field: "email", detail: "must be an email address") }
        let now = clock.milliseconds
        let token = Self.tokenPrefix + SecureRandom.base32(20)
        let expires = now + Self.sessionLifetime
        let given = hash(code, email: address)
        let outcome: Result<CustomerID, CustomerError> = try await customers.writer.write { transaction in
            guard var stored = try self.store.code(for: address, in: transaction), !stored.used, stored.expiresAtMilliseconds > now,
                  stored.attempts < Self.maxTries else { return .failure(.codeRejected) }
            guard Digest.constantTimeEquals(stored.hash, given) else {
                stored.attempts += 1
                try self.store.saveCode(stored, in: transaction)
                return .failure(.codeRejected)
            }
            stored.used = true
            try self.store.saveCode(stored, in: transaction)
            let stamp = self.clock.timestamp
            var customer: Customer
            if let known = try self.customers.store.customer(email: address, in: transaction) {
                customer = known
            } else {
                customer = Customer(
                    id: .make(), email: address, phone: nil, firstName: nil, lastName: nil, tags: [], note: nil, locale: nil, timezone: nil,
                    addresses: [], hasAccount: true, consent: [:], stats: .none, preferences: CustomerPreferences(), erasedAt: nil,
                    createdAt: stamp, updatedAt: stamp)
                try self.customers.store.insert(customer, in: transaction)
                try self.customers.created(customer, source: "sign_in", in: transaction)
            }
            if !customer.hasAccount {
                customer.hasAccount = true
                customer.updatedAt = stamp
                try self.customers.store.update(customer, in: transaction)
            }
            try self.store.insertSession(
                ShopperSession(tokenHash: Digest.sha256(Array(token.utf8)), customerID: customer.id, createdAt: stamp, expiresAtMilliseconds: expires),
                in: transaction)
            return .success(customer.id)
        }
        let id = try outcome.get()
        return (token, Timestamp.string(Date(timeIntervalSince1970: Double(expires) / 1000)), try customers.customer(id))
    }

    /// The customer a token signs in, or `nil` when it is unknown, expired or signed out. A use a day
    /// or more after the last extension slides the expiry (written in the background: losing it to a
    /// crash costs the shopper at most a day).
    public func authenticate(_ token: String) -> CustomerID? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 100 else { return nil }
        let hash = Digest.sha256(Array(token.utf8))
        let now = clock.milliseconds
        guard let session = try? store.session(tokenHash: hash), session.expiresAtMilliseconds > now else { return nil }
        if session.expiresAtMilliseconds - now < Self.sessionLifetime - Self.extensionStep {
            let store = store
            customers.writer.submit({ transaction in
                try store.extendSession(tokenHash: hash, expiresAtMilliseconds: now + Self.sessionLifetime, in: transaction)
            }, completion: { _ in })
        }
        return session.customerID
    }

    /// Signs the token out.
    public func signOut(_ token: String) async throws {
        let hash = Digest.sha256(Array(token.utf8))
        try await customers.writer.write { transaction in try self.store.deleteSession(tokenHash: hash, in: transaction) }
    }

    // MARK: The till pass

    /// A pass for `customer` valid five minutes, good only for looking them up at a till: their id and
    /// deadline with an HMAC under a key of its own.
    public func pass(for customer: CustomerID) -> (pass: String, expiresAt: String) {
        let expires = clock.milliseconds + Self.passLifetime
        let subject = Array("\(customer.rawValue).\(expires)".utf8)
        let mac = Array(Digest.hmacSHA256(key: passKey, message: subject).prefix(16))
        return (Self.passPrefix + Base64URL.encode(subject) + "." + Base64URL.encode(mac), Timestamp.string(Date(timeIntervalSince1970: Double(expires) / 1000)))
    }

    /// The customer a pass was made for, or `nil` when it is forged, mangled or expired.
    public func customer(fromPass pass: String) -> CustomerID? {
        guard pass.hasPrefix(Self.passPrefix), pass.utf8.count <= 200 else { return nil }
        let parts = pass.dropFirst(Self.passPrefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let subject = try? Base64URL.decode(parts[0]), let mac = try? Base64URL.decode(parts[1]),
              Digest.constantTimeEquals(mac, Array(Digest.hmacSHA256(key: passKey, message: subject).prefix(16))) else { return nil }
        let text = String(decoding: subject, as: UTF8.self)
        guard let dot = text.lastIndex(of: "."), let expires = Int64(text[text.index(after: dot)...]), expires > clock.milliseconds else { return nil }
        return CustomerID(rawValue: String(text[..<dot]))
    }

    private func hash(_ code: String, email: String) -> [UInt8] {
        Digest.hmacSHA256(key: codeKey, message: Array("\(email)\n\(code)".utf8))
    }
}
