import Foundation
import ShopfloorCrypto
import Synchronization
import Testing
@testable import ShopfloorDomain

/// Integrator webhooks on a temporary store and a manual clock: endpoints made and validated, events
/// turned into deliveries, deliveries signed per Standard Webhooks, the retry schedule, 410 disabling
/// the endpoint, replay and secret rotation. The HTTP side is a scripted client; the real one is
/// tested end to end in the black-box suite.
struct WebhookTests {
    /// Answers from a script (then 200) and keeps every request.
    final class ScriptedClient: WebhookClient {
        struct Request: Sendable {
            var url: String
            var headers: [String: String]
            var body: String
        }

        private let state = Mutex<(script: [WebhookResponse], requests: [Request])>(([], []))

        init(_ script: [WebhookResponse] = []) {
            state.withLock { $0.script = script }
        }

        var requests: [Request] { state.withLock { $0.requests } }

        func post(url: String, headers: [(name: String, value: String)], body: [UInt8]) async -> WebhookResponse {
            state.withLock { state in
                state.requests.append(Request(url: url, headers: Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) }),
                                              body: String(decoding: body, as: UTF8.self)))
                return state.script.isEmpty ? .answered(status: 200, excerpt: "ok", retryAfter: nil) : state.script.removeFirst()
            }
        }
    }

    /// Reversible and visibly not the secret; the real sealer is tested with the crypto.
    struct MarkedSealer: SecretSealer {
        func seal(_ secret: String) -> String { "sealed:" + String(secret.reversed()) }
        func open(_ sealed: String) throws -> String { String(sealed.dropFirst("sealed:".count).reversed()) }
    }

    struct Rig {
        let shop: TestShop
        let dispatcher: WebhookDispatcher
        let webhooks: WebhookService

        init() async throws {
            shop = try await TestShop()
            dispatcher = try WebhookDispatcher(stores: shop.store.stores, events: shop.events, clock: shop.clock)
            webhooks = WebhookService(stores: shop.store.stores, events: shop.events, dispatcher: dispatcher, sealer: MarkedSealer(),
                                      clock: shop.clock, refusesHost: { $0 == "127.0.0.1" || $0 == "localhost" })
        }

        func delivery(_ client: ScriptedClient) -> WebhookDeliveryService {
            WebhookDeliveryService(stores: shop.store.stores, webhooks: webhooks, dispatcher: dispatcher, client: client, concurrency: 4,
                                   clock: shop.clock)
        }

        /// An endpoint for `events`, and its secret.
        func endpoint(_ events: [String] = ["product.*"]) async throws -> (WebhookEndpoint, String) {
            try await webhooks.create(WebhookService.Draft(url: "https://hooks.example/in", events: events))
        }

        /// A product made (events `product.created` and others), then dispatched.
        func product(_ sku: String) async throws {
            try await shop.stocked(sku, units: 0)
            try await dispatcher.dispatchPending()
        }

        func deliveries(_ endpoint: WebhookEndpoint) throws -> [WebhookDelivery] {
            try webhooks.deliveries(of: endpoint.id, status: nil, limit: 200, before: nil).items
        }
    }

    @Test func badEndpointsAreRefusedWithEveryReason() async throws {
        let rig = try await Rig()
        let error = await #expect(throws: ValidationError.self) {
            try await rig.webhooks.create(WebhookService.Draft(url: "ftp://x.example/", events: ["order.", "Order.placed", "*.x"]))
        }
        #expect(error?.errors.map(\.field) == ["url", "events[0]", "events[1]", "events[2]"])
        await #expect(throws: ValidationError.self) { try await rig.webhooks.create(WebhookService.Draft(url: "https://x.example/", events: [])) }
        await #expect(throws: ValidationError.self) {
            try await rig.webhooks.create(WebhookService.Draft(url: "https://user:pw@x.example/", events: ["*"]))
        }
        await #expect(throws: WebhookError.privateTarget("127.0.0.1")) {
            try await rig.webhooks.create(WebhookService.Draft(url: "http://127.0.0.1:9/hook", events: ["*"]))
        }
        #expect(try rig.webhooks.endpoints().isEmpty)
    }

    @Test func theSecretIsShownOnceAndKeptSealed() async throws {
        let rig = try await Rig()
        let (endpoint, secret) = try await rig.endpoint()
        #expect(secret.hasPrefix("whsec_"))
        #expect(WebhookSignature.key(of: secret)?.count == 32)
        let stored = try rig.webhooks.endpoint(endpoint.id)
        #expect(stored.secrets.count == 1)
        #expect(!stored.secrets[0].sealed.contains(secret))
    }

    @Test func eventsAfterCreationThatMatchBecomeOneSignedDeliveryEach() async throws {
        let rig = try await Rig()
        try await rig.product("EARLY-1")
        let (endpoint, secret) = try await rig.endpoint(["product.created"])
        let (other, _) = try await rig.endpoint(["location.*"])
        try await rig.product("MUG-1")
        try await rig.dispatcher.dispatchPending()
        let deliveries = try rig.deliveries(endpoint)
        #expect(deliveries.map(\.eventType) == ["product.created"])
        #expect(try rig.deliveries(other).isEmpty)
        let delivery = try #require(deliveries.first)
        #expect(delivery.payload.hasPrefix(#"{"type":"product.created","timestamp":"#))
        #expect(delivery.payload.contains("MUG-1"))

        let client = ScriptedClient()
        await rig.delivery(client).deliverDue()
        let request = try #require(client.requests.first)
        #expect(client.requests.count == 1)
        #expect(request.url == "https://hooks.example/in")
        #expect(request.body == delivery.payload)
        #expect(request.headers["webhook-id"] == delivery.id.rawValue)
        let timestamp = try #require(request.headers["webhook-timestamp"])
        #expect(timestamp == String(Int64(rig.shop.clock.now().timeIntervalSince1970)))
        let key = try #require(WebhookSignature.key(of: secret))
        let expected = "v1," + Data(Digest.hmacSHA256(key: key, message: Array("\(delivery.id).\(timestamp).\(request.body)".utf8))).base64EncodedString()
        #expect(request.headers["webhook-signature"] == expected)

        let sent = try #require(try rig.deliveries(endpoint).first)
        #expect(sent.status == .succeeded)
        #expect(sent.attempts == 1)
        #expect(sent.lastStatusCode == 200)
        let attempts = try rig.webhooks.delivery(sent.id, of: endpoint.id).attempts
        #expect(attempts.map(\.statusCode) == [200])
        #expect(attempts.first?.responseExcerpt == "ok")
        #expect(attempts.first?.requestHeaders["webhook-id"] == sent.id.rawValue)
        // Dispatching again makes nothing new, and nothing is due.
        try await rig.dispatcher.dispatchPending()
        await rig.delivery(client).deliverDue()
        #expect(client.requests.count == 1)
    }

    @Test func anOrderIsOneDeliveryNotItsTrackingPagesCopy() async throws {
        let rig = try await Rig()
        let (endpoint, _) = try await rig.endpoint(["order.*"])
        let shipping = try await rig.shop.pricing.createShippingMethod(
            name: "Standard", price: Money(amount: 495, currency: Currency("GBP")!), countries: ["GB"], freeOver: nil, collectInStore: nil)
        try await rig.shop.stocked("MUG-1", price: 1000)
        let cart = try await CheckoutServiceTests.readyCart(rig.shop, shipping)
        _ = try await rig.shop.checkout.complete(cart.id, payment: CheckoutServiceTests.card, payer: nil, request: nil)
        try await rig.dispatcher.dispatchPending()
        let deliveries = try rig.deliveries(endpoint)
        #expect(deliveries.map(\.eventType).sorted() == ["order.placed", "order.status_changed"])
        #expect(deliveries.allSatisfy { $0.payload.contains(#""order_id":"#) })
    }

    @Test func aRestartedDispatcherCarriesOnFromItsMark() async throws {
        let rig = try await Rig()
        let (endpoint, _) = try await rig.endpoint(["product.created"])
        try await rig.product("MUG-1")
        let again = try WebhookDispatcher(stores: rig.shop.store.stores, events: rig.shop.events, clock: rig.shop.clock)
        try await again.dispatchPending()
        try await rig.product("MUG-2")
        try await again.dispatchPending()
        #expect(try rig.deliveries(endpoint).count == 2)
    }

    @Test func temporaryFailuresFollowTheScheduleAndRetryAfter() async throws {
        let rig = try await Rig()
        let (endpoint, _) = try await rig.endpoint(["product.created"])
        try await rig.product("MUG-1")
        let client = ScriptedClient([
            .answered(status: 503, excerpt: "busy", retryAfter: nil),
            .failed("timed out", permanent: false),
            .answered(status: 429, excerpt: "", retryAfter: .seconds(3_600)),
        ])
        let delivery = rig.delivery(client)
        await delivery.deliverDue()
        var state = try #require(try rig.deliveries(endpoint).first)
        #expect(state.status == .pending)
        #expect(state.lastError == "HTTP 503")
        let due = try #require(state.nextAttemptAtMilliseconds) - rig.shop.clock.milliseconds
        #expect(due >= 5_000 && due <= 5_500)

        rig.shop.clock.advance(by: .seconds(6))
        await delivery.deliverDue()
        state = try #require(try rig.deliveries(endpoint).first)
        #expect(state.lastError == "timed out")
        let second = try #require(state.nextAttemptAtMilliseconds) - rig.shop.clock.milliseconds
        #expect(second >= 300_000 && second <= 330_000)

        rig.shop.clock.advance(by: .seconds(331))
        await delivery.deliverDue()
        state = try #require(try rig.deliveries(endpoint).first)
        #expect(state.lastStatusCode == 429)
        #expect(try #require(state.nextAttemptAtMilliseconds) - rig.shop.clock.milliseconds >= 3_600_000)

        rig.shop.clock.advance(by: .seconds(3_601))
        await delivery.deliverDue()
        state = try #require(try rig.deliveries(endpoint).first)
        #expect(state.status == .succeeded)
        #expect(state.attempts == 4)
        #expect(Set(client.requests.map { $0.headers["webhook-id"] }).count == 1)
    }

    @Test func goneDisablesTheEndpointAndItsDeliveriesWait() async throws {
        let rig = try await Rig()
        let (endpoint, _) = try await rig.endpoint(["product.*"])
        try await rig.product("MUG-1")
        let client = ScriptedClient([.answered(status: 410, excerpt: "gone", retryAfter: nil)])
        let delivery = rig.delivery(client)
        await delivery.deliverDue()
        #expect(client.requests.count == 1)
        let disabled = try rig.webhooks.endpoint(endpoint.id)
        #expect(disabled.status == .disabled)
        #expect(disabled.disabledReason == "gone")
        let pendingBefore = try rig.deliveries(endpoint).filter { $0.status == .pending }.count
        try await rig.product("MUG-2")
        #expect(try rig.deliveries(endpoint).filter { $0.status == .pending }.count == pendingBefore)
        await delivery.deliverDue()
        #expect(client.requests.count == 1)

        _ = try await rig.webhooks.update(endpoint.id, WebhookService.Draft(enabled: true))
        await delivery.deliverDue()
        #expect(client.requests.count == 1 + pendingBefore)
    }

    @Test func aPermanentFailureCanBeReplayedWithTheSameID() async throws {
        let rig = try await Rig()
        let (endpoint, _) = try await rig.endpoint(["product.created"])
        try await rig.product("MUG-1")
        let client = ScriptedClient([.answered(status: 400, excerpt: "bad", retryAfter: nil)])
        let delivery = rig.delivery(client)
        await delivery.deliverDue()
        let failed = try #require(try rig.deliveries(endpoint).first)
        #expect(failed.status == .failed)
        #expect(failed.nextAttemptAtMilliseconds == nil)

        let replayed = try await rig.webhooks.replay(failed.id, of: endpoint.id)
        #expect(replayed.status == .pending)
        await delivery.deliverDue()
        let done = try #require(try rig.deliveries(endpoint).first)
        #expect(done.status == .succeeded)
        #expect(done.attempts == 2)
        #expect(client.requests.map { $0.headers["webhook-id"] } == [failed.id.rawValue, failed.id.rawValue])
        await #expect(throws: WebhookError.deliveryNotFound(failed.id.rawValue)) {
            try await rig.webhooks.replay(failed.id, of: WebhookEndpointID(rawValue: "whk_other"))
        }
    }

    @Test func settledDeliveriesArePrunedWithAgeAndPendingOnesStay() async throws {
        let rig = try await Rig()
        let (endpoint, _) = try await rig.endpoint(["product.created"])
        try await rig.product("MUG-1")
        await rig.delivery(ScriptedClient()).deliverDue()
        try await rig.product("MUG-2")
        rig.shop.clock.advance(by: .seconds(86_400 * 31))
        #expect(try await rig.webhooks.pruneDeliveries(olderThan: .seconds(86_400 * 30)) == 1)
        #expect(try rig.deliveries(endpoint).map(\.status) == [.pending])
    }

    @Test func aRotationSignsWithBothSecretsUntilTheOverlapEnds() async throws {
        let rig = try await Rig()
        let (endpoint, old) = try await rig.endpoint(["product.created"])
        let (_, new) = try await rig.webhooks.rotateSecret(endpoint.id)
        #expect(new != old)
        try await rig.product("MUG-1")
        let client = ScriptedClient()
        await rig.delivery(client).deliverDue()
        #expect(client.requests.last?.headers["webhook-signature"]?.split(separator: " ").count == 2)

        rig.shop.clock.advance(by: WebhookService.rotationOverlap + .seconds(1))
        try await rig.product("MUG-2")
        await rig.delivery(client).deliverDue()
        let request = try #require(client.requests.last)
        let signatures = try #require(request.headers["webhook-signature"]).split(separator: " ")
        #expect(signatures.count == 1)
        let key = try #require(WebhookSignature.key(of: new))
        let signed = "\(request.headers["webhook-id"]!).\(request.headers["webhook-timestamp"]!).\(request.body)"
        #expect(String(signatures[0]) == "v1," + Data(Digest.hmacSHA256(key: key, message: Array(signed.utf8))).base64EncodedString())
    }

    /// The example of the Standard Webhooks specification, signed as its reference libraries sign it.
    @Test func signaturesMatchTheSpecificationsExample() {
        let header = WebhookSignature.header(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8),
                                             secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(WebhookSignature.key(of: "whsec_!!") == nil)
        #expect(WebhookSignature.key(of: "secret") == nil)
    }

    @Test func patternsMatchTypesFamiliesAndEverything() {
        #expect(WebhookEndpoint.pattern("*", matches: "order.placed"))
        #expect(WebhookEndpoint.pattern("order.*", matches: "order.placed"))
        #expect(!WebhookEndpoint.pattern("order.*", matches: "orders.placed"))
        #expect(!WebhookEndpoint.pattern("order.*", matches: "order"))
        #expect(WebhookEndpoint.pattern("order.placed", matches: "order.placed"))
        #expect(!WebhookEndpoint.pattern("order.placed", matches: "order.paid"))
    }
}

/// The claim race of an outbox's sender (``InFlightClaims``): an item whose attempt finished after a
/// pass began is not claimed by that pass, even when the pass's read still shows it due.
struct InFlightClaimsTests {
    @Test func anItemFinishedDuringAPassIsNotClaimedAgainUntilTheNext() {
        let claims = InFlightClaims<String, Int>()
        claims.beginPass()
        #expect(claims.claim(["a", "b"], lane: 0, limit: 8) { $0 } == ["a", "b"])
        claims.beginPass()
        // "a" finishes while this pass reads the store, which still shows it due.
        claims.finish("a", lane: 0)
        #expect(claims.claim(["a", "b", "c"], lane: 0, limit: 8) { $0 } == ["c"])
        #expect(claims.count(0) == 2)
        claims.beginPass()
        #expect(claims.claim(["a"], lane: 0, limit: 8) { $0 } == ["a"])
        #expect(claims.claim(["d", "e"], lane: 0, limit: 4) { $0 } == ["d"])
        #expect(claims.contains("d") && !claims.contains("x"))
    }
}
