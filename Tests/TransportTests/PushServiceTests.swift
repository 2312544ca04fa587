import Foundation
import ShopfloorCrypto
import Testing
import ShopfloorTransport

private func startService(_ arguments: [String] = [], in directory: TestDirectory) async throws -> PushService {
    try await onThread { try PushService(arguments, in: directory) }
}

/// The wall clock in Unix seconds: the Python service checks `exp` against its own clock.
private func unixNow() -> Int64 { Int64(Date().timeIntervalSince1970) }

/// The request and the encryption end to end against `Tests/support/push_service.py`, which decrypts
/// with `http_ece` and verifies VAPID with `cryptography`: two implementations that share no code with ours.
@Suite(.serialized) struct PushServiceTests {
    @Test(.enabled(if: PushService.python != nil, PushService.skipReason))
    func theServiceDecryptsTheExactPlaintextAndVerifiesVAPID() async throws {
        let directory = try TestDirectory()
        let service = try await startService(in: directory)
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let subscription = try await onThread { try service.subscribe(applicationServerKey: vapid.publicKey) }
        let payload = #"{"title":"Bestellung 42 ist unterwegs","body":"Grüße aus dem Lager 📦"}"#
        let now = unixNow()
        let request = try WebPushRequest(
            endpoint: subscription.endpoint, keys: subscription.keys, payload: Array(payload.utf8), ttl: 3600, urgency: .high,
            topic: "order-42", vapid: vapid, now: now)

        let response = try await onThread { try service.send(request) }
        #expect(response.status == 201)
        #expect(response.header("Location") == "/messages/1")

        let messages = try await onThread { try service.messages() }
        let message = try #require(messages.first)
        #expect(messages.count == 1)
        #expect(message.plaintext == payload)
        #expect(message.subscription == subscription.id)
        #expect(message.contentEncoding == "aes128gcm")
        #expect(message.ttl == 3600)
        #expect(message.urgency == "high")
        #expect(message.topic == "order-42")
        #expect(message.audience == service.origin)
        #expect(message.subject == "mailto:push@shop.example")
        #expect(message.expiry == now + WebPushRequest.vapidValidity)
        #expect(message.key == vapid.publicKey)
        #expect(try await onThread { try service.rejections() } == [])
    }

    /// The largest plaintext one record holds reaches the service whole.
    @Test(.enabled(if: PushService.python != nil, PushService.skipReason))
    func theLargestPayloadArrivesWhole() async throws {
        let directory = try TestDirectory()
        let service = try await startService(in: directory)
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "https://shop.example/contact")
        let subscription = try await onThread { try service.subscribe() }
        let payload = String(repeating: "0123456789abcdef", count: 250).prefix(WebPushEncryptor.maximumPlaintextLength)
        let request = try WebPushRequest(
            endpoint: subscription.endpoint, keys: subscription.keys, payload: Array(payload.utf8), ttl: 0, vapid: vapid, now: unixNow())
        #expect(request.body.count == 4096)
        #expect(try await onThread { try service.send(request) }.status == 201)
        #expect(try await onThread { try service.messages() }.map(\.plaintext) == [String(payload)])
    }

    @Test(.enabled(if: PushService.python != nil, PushService.skipReason))
    func aVAPIDKeyOtherThanTheSubscriptionsIsRefusedWith403() async throws {
        let directory = try TestDirectory()
        let service = try await startService(in: directory)
        let subscribed = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let other = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let subscription = try await onThread { try service.subscribe(applicationServerKey: subscribed.publicKey) }
        let request = try WebPushRequest(
            endpoint: subscription.endpoint, keys: subscription.keys, payload: Array("hello".utf8), ttl: 60, vapid: other, now: unixNow())

        let response = try await onThread { try service.send(request) }
        #expect(response.status == 403)
        #expect(try await onThread { try service.messages() }.isEmpty)
        #expect(try await onThread { try service.rejections() } == [
            .init(subscription: subscription.id, status: 403, reason: "k is not the subscription's application server key"),
        ])
    }

    /// A token signed by one key but presented with another's public key fails the signature check.
    @Test(.enabled(if: PushService.python != nil, PushService.skipReason))
    func aTokenWhoseSignatureDoesNotMatchKIsRefusedWith403() async throws {
        let directory = try TestDirectory()
        let service = try await startService(in: directory)
        let claimed = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let signer = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let subscription = try await onThread { try service.subscribe() }
        let request = try WebPushRequest(
            endpoint: subscription.endpoint, keys: subscription.keys, payload: Array("hello".utf8), ttl: 60, vapid: signer, now: unixNow())
        let forged = request.headers.map { header in
            header.name == "Authorization" ? (header.name, header.value.replacingOccurrences(of: signer.publicKey, with: claimed.publicKey)) : header
        }
        let response = try await onThread {
            try BlockingHTTP.exchange(
                host: request.endpoint.host, port: request.endpoint.port, method: "POST", target: request.endpoint.target, headers: forged,
                body: request.body)
        }
        #expect(response.status == 403)
        #expect(try await onThread { try service.rejections() }.map(\.reason) == ["signature does not verify with k"])
    }

    /// A request built with a clock 13 hours behind carries a token that expired an hour ago.
    @Test(.enabled(if: PushService.python != nil, PushService.skipReason))
    func anExpiredTokenIsRefusedWith403() async throws {
        let directory = try TestDirectory()
        let service = try await startService(in: directory)
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let subscription = try await onThread { try service.subscribe() }
        let request = try WebPushRequest(
            endpoint: subscription.endpoint, keys: subscription.keys, payload: Array("late".utf8), ttl: 60, vapid: vapid,
            now: unixNow() - 13 * 3600)
        #expect(try await onThread { try service.send(request) }.status == 403)
        #expect(try await onThread { try service.rejections() }.map(\.reason) == ["exp has passed"])
    }

    @Test(.enabled(if: PushService.python != nil, PushService.skipReason))
    func aBodyEncryptedForAnotherSubscriptionIsRefusedWith400() async throws {
        let directory = try TestDirectory()
        let service = try await startService(in: directory)
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let (target, stranger) = try await onThread { (try service.subscribe(), try service.subscribe()) }
        let request = try WebPushRequest(
            endpoint: target.endpoint, keys: stranger.keys, payload: Array("misaddressed".utf8), ttl: 60, vapid: vapid, now: unixNow())
        #expect(try await onThread { try service.send(request) }.status == 400)
        let rejection = try #require(try await onThread { try service.rejections() }.first)
        #expect(rejection.status == 400)
        #expect(rejection.reason.hasPrefix("decryption failed"))
    }

    /// The failure modes later delivery tests rely on: throttling with Retry-After, server errors, a gone subscription.
    @Test(.enabled(if: PushService.python != nil, PushService.skipReason))
    func failureModesAnswerAsConfigured() async throws {
        let directory = try TestDirectory()
        let service = try await startService(["--throttle", "1", "--retry-after", "30"], in: directory)
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:push@shop.example")
        let subscription = try await onThread { try service.subscribe() }
        let request = try WebPushRequest(
            endpoint: subscription.endpoint, keys: subscription.keys, payload: Array("again".utf8), ttl: 60, vapid: vapid, now: unixNow())

        let statuses = try await onThread { () throws -> [(Int, String?)] in
            let throttled = try service.send(request)
            try service.control(["fail": 1])
            let failed = try service.send(request)
            let accepted = try service.send(request)
            try service.control(["gone": [subscription.id]])
            let gone = try service.send(request)
            return [(throttled.status, throttled.header("Retry-After")), (failed.status, nil), (accepted.status, nil), (gone.status, nil)]
        }
        #expect(statuses.map(\.0) == [429, 500, 201, 410])
        #expect(statuses[0].1 == "30")
        #expect(try await onThread { try service.messages() }.map(\.plaintext) == ["again"])
        #expect(try await onThread { try service.rejections() }.map(\.status) == [429, 500, 410])
    }
}
