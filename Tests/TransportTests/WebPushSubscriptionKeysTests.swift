import ShopfloorCrypto
import Testing
import ShopfloorTransport

private let p256dh = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
private let auth = "BTBZMqHH6r4Tts7J_aSIgg"

@Suite struct WebPushSubscriptionKeysTests {
    @Test func readsABrowsersBase64URLKeys() throws {
        let keys = try WebPushSubscriptionKeys(p256dh: p256dh, auth: auth)
        #expect(Base64URL.encode(keys.p256dh.uncompressedPoint) == p256dh)
        #expect(keys.auth == (try Base64URL.decode(auth)))
        // Padded, as some clients send them, they are the same keys.
        #expect(try WebPushSubscriptionKeys(p256dh: p256dh + "=", auth: auth + "==") == keys)
    }

    @Test func namesTheFieldAndTheFault() throws {
        #expect(throws: WebPushError.invalidSubscriptionKey(field: "p256dh", error: .invalidBase64URL(position: 6))) {
            try WebPushSubscriptionKeys(p256dh: "BCVxsr+N", auth: auth)
        }
        #expect(throws: WebPushError.invalidSubscriptionKey(field: "p256dh", error: .invalidLength(of: "P-256 uncompressed point", expected: 65, actual: 33))) {
            try WebPushSubscriptionKeys(p256dh: String(p256dh.prefix(44)), auth: auth)
        }
        var offCurve = try Base64URL.decode(p256dh)
        offCurve[64] ^= 1
        #expect {
            try WebPushSubscriptionKeys(p256dh: Base64URL.encode(offCurve), auth: auth)
        } throws: { error in
            guard case .invalidSubscriptionKey(field: "p256dh", error: .invalidPublicKey) = error as? WebPushError else { return false }
            return true
        }
        #expect(throws: WebPushError.invalidSubscriptionKey(field: "auth", error: .invalidLength(of: "auth", expected: 16, actual: 15))) {
            try WebPushSubscriptionKeys(p256dh: p256dh, auth: Base64URL.encode([UInt8](repeating: 1, count: 15)))
        }
        #expect(throws: WebPushError.invalidSubscriptionKey(field: "auth", error: .invalidBase64URL(position: 2))) {
            try WebPushSubscriptionKeys(p256dh: p256dh, auth: "BT/ZMqHH6r4Tts7J_aSIgg")
        }
    }
}
