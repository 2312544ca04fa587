import ShopfloorCrypto
import Testing
import ShopfloorTransport

private let now: Int64 = 1_767_182_400

private func makeFixture() throws -> (userAgent: P256PrivateKey, keys: WebPushSubscriptionKeys, vapid: VAPID) {
    let userAgent = try P256PrivateKey()
    let keys = try WebPushSubscriptionKeys(p256dh: userAgent.publicKey, auth: SecureRandom.bytes(16))
    return (userAgent, keys, try VAPID(privateKey: P256PrivateKey(), subject: "mailto:ops@shop.example"))
}

@Suite struct WebPushRequestTests {
    @Test func carriesTheRFC8030FieldsAndAnEncryptedBody() throws {
        let fixture = try makeFixture()
        let payload = Array(#"{"title":"Order 42 shipped"}"#.utf8)
        let endpoint = "https://push.example:8443/wpush/v2/abc?x=1"
        let request = try WebPushRequest(
            endpoint: endpoint, keys: fixture.keys, payload: payload, ttl: 86_400, urgency: .high, topic: "order-42", vapid: fixture.vapid, now: now)
        #expect(request.method == "POST")
        #expect(request.url == endpoint)
        #expect(request.endpoint.host == "push.example")
        #expect(request.endpoint.port == 8443)
        #expect(request.endpoint.target == "/wpush/v2/abc?x=1")
        #expect(request.headers.map(\.name) == ["TTL", "Urgency", "Topic", "Content-Encoding", "Content-Type", "Authorization"])
        #expect(request.headers.map(\.value).prefix(5) == ["86400", "high", "order-42", "aes128gcm", "application/octet-stream"])
        let authorization = try #require(request.headers.last?.value)
        #expect(authorization.hasPrefix("vapid t="))
        #expect(authorization.hasSuffix(", k=\(fixture.vapid.publicKey)"))
        let token = authorization.dropFirst("vapid t=".count).prefix { $0 != "," }
        let claims = String(decoding: try Base64URL.decode(token.split(separator: ".")[1]), as: UTF8.self)
        #expect(claims == #"{"aud":"https://push.example:8443","exp":1767225600,"sub":"mailto:ops@shop.example"}"#)
        let decrypted = try WebPushDecryption.decrypt(request.body, userAgentKey: fixture.userAgent, auth: fixture.keys.auth)
        #expect(decrypted.plaintext == payload)
    }

    @Test func leavesTopicOutWhenNoneIsGivenAndSendsEachUrgency() throws {
        let fixture = try makeFixture()
        for urgency in WebPushUrgency.allCases {
            let request = try WebPushRequest(
                endpoint: "https://push.example/x", keys: fixture.keys, payload: [1], ttl: 0, urgency: urgency, vapid: fixture.vapid, now: now)
            #expect(request.headers.map(\.name) == ["TTL", "Urgency", "Content-Encoding", "Content-Type", "Authorization"])
            #expect(request.headers[0].value == "0")
            #expect(request.headers[1].value == urgency.rawValue)
        }
        #expect(WebPushUrgency.allCases.map(\.rawValue) == ["very-low", "low", "normal", "high"])
    }

    @Test func refusesBadTopicsTTLsAndPayloads() throws {
        let fixture = try makeFixture()
        func make(ttl: Int = 60, topic: String? = nil, payload: [UInt8] = [1], endpoint: String = "https://push.example/x") throws(WebPushError) {
            _ = try WebPushRequest(endpoint: endpoint, keys: fixture.keys, payload: payload, ttl: ttl, topic: topic, vapid: fixture.vapid, now: now)
        }
        #expect(throws: Never.self) { try make(topic: String(repeating: "a", count: 32)) }
        for topic in ["", String(repeating: "a", count: 33), "order 42", "order/42", "order=", "zwölf"] {
            #expect(throws: WebPushError.invalidTopic(topic)) { try make(topic: topic) }
        }
        #expect(throws: WebPushError.invalidTTL(-1)) { try make(ttl: -1) }
        #expect(throws: WebPushError.payloadTooLarge(size: 4000, limit: 3993)) { try make(payload: [UInt8](repeating: 0, count: 4000)) }
        #expect(throws: WebPushError.invalidEndpoint("mailto:x@y")) { try make(endpoint: "mailto:x@y") }
    }
}
