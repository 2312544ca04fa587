import Foundation
import ShopfloorCrypto
import ShopfloorJSON

/// Payment by an external processor: completion places the order with the payment pending, and the
/// processor later confirms through ``PaymentWebhook``.
public struct WebhookPayments: PaymentProvider {
    public let method = "webhook"
    public init() {}

    public func charge(_ request: PaymentRequest, amount: Money, payer: Role?) async throws -> PaymentOutcome {
        PaymentOutcome(status: .pending, reference: request.reference)
    }
}

/// `POST /v1/payments/webhook`: a processor's signed notice that a pending payment succeeded or failed.
///
/// The `Shopfloor-Signature` header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under
/// the shared secret (several `v1` entries are allowed while a secret rotates). Notices older than the
/// tolerance are refused, so a captured one cannot be replayed later; a repeat of a notice already
/// handled (same `id`) is answered as before and changes nothing.
public struct PaymentWebhook: Sendable {
    /// The notice's body.
    struct Notice: Decodable {
        var id: String
        var type: String
        var paymentID: String
    }

    public enum Failure: Error, Equatable {
        case missingSignature
        case badSignature
        /// The timestamp is outside the tolerance: too old (a replay) or from the future.
        case stale
        case malformed(String)
        case unknownPayment(String)
    }

    private let secret: [UInt8]
    private let orders: OrderService
    private let idempotency: Idempotency
    private let writer: any StoreWriter
    private let tolerance: Int64

    public init(secret: String, stores: Stores, orders: OrderService, idempotency: Idempotency, tolerance: Duration = .seconds(300)) {
        self.secret = Array(secret.utf8)
        self.orders = orders
        self.idempotency = idempotency
        writer = stores.writer
        self.tolerance = tolerance.components.seconds
    }

    /// Checks and applies a notice; returns the order it concerned (a repeat gets the first answer).
    public func receive(body: [UInt8], signature: String?) async throws -> Order {
        let clock = orders.clock
        try verify(body: body, signature: signature, now: Int64(clock.now().timeIntervalSince1970))
        let notice: Notice
        do { notice = try JSONCoding.decode(Notice.self, from: body) } catch { throw Failure.malformed("the body needs id, type and payment_id") }
        guard notice.type == "payment.succeeded" || notice.type == "payment.failed" else {
            throw Failure.malformed("type must be payment.succeeded or payment.failed")
        }
        let paymentID = PaymentID(rawValue: notice.paymentID)
        // A notice is one event, named by its id: a repeat is the same notice whatever its bytes (a
        // processor may sign and send it again), so the id is its fingerprint too.
        let request = IdempotentRequest(key: notice.id, fingerprint: Array(notice.id.utf8))
        let (writer, orders) = (writer, orders)
        let handled = try await idempotency.perform(request, scope: "payment-notice") { recorder in
            try await writer.write { transaction in
                let store = orders.store
                guard let payment = try store.payment(paymentID, in: transaction) else { throw Failure.unknownPayment(notice.paymentID) }
                guard var order = try store.order(payment.order, in: transaction) else { throw Failure.unknownPayment(notice.paymentID) }
                if payment.status == .pending {
                    let succeeded = notice.type == "payment.succeeded"
                    try store.setPaymentStatus(paymentID, succeeded ? .succeeded : .failed, in: transaction)
                    order = if succeeded && order.status == .placed {
                        try orders.record(payment.order, status: .paid, actor: "webhook", note: nil, trackingNumber: nil, in: transaction)
                    } else {
                        try store.order(payment.order, in: transaction) ?? order
                    }
                }
                try recorder?.record(order, in: transaction)
                return order
            }
        }
        // A repeat changes nothing and answers with the order as it stands now, as the first did then.
        return try orders.order(handled.id) ?? handled
    }

    func verify(body: [UInt8], signature: String?, now: Int64) throws(Failure) {
        guard let signature else { throw .missingSignature }
        var timestamp: Int64?
        var candidates: [String] = []
        for part in signature.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1" { candidates.append(pair[1].lowercased()) }
        }
        guard let timestamp, !candidates.isEmpty else { throw .missingSignature }
        guard abs(now - timestamp) <= tolerance else { throw .stale }
        let expected = Self.hex(Digest.hmacSHA256(key: secret, message: Array("\(timestamp).".utf8) + body))
        guard candidates.contains(where: { Digest.constantTimeEquals(Array($0.utf8), Array(expected.utf8)) }) else { throw .badSignature }
    }

    /// The signature header for `body` at `time`, as a processor (or a test) makes it.
    public static func signature(for body: [UInt8], secret: String, at time: Int64) -> String {
        "t=\(time),v1=" + hex(Digest.hmacSHA256(key: Array(secret.utf8), message: Array("\(time).".utf8) + body))
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
