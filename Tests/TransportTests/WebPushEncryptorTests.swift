import ShopfloorCrypto
import Testing
@testable import ShopfloorTransport

/// RFC 8291 Appendix A (and the message of §5), line breaks removed.
private enum RFC8291 {
    static let plaintext = "When I grow up, I want to be a watermelon"
    static let serverPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
    static let serverPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    static let userAgentPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
    static let userAgentPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
    static let salt = "DGv6ra1nlYgDCS1FRnbzlw"
    static let auth = "BTBZMqHH6r4Tts7J_aSIgg"
    static let message = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
}

/// A user agent's key and auth secret, with the subscription keys it would publish.
private func makeUserAgent() throws -> (key: P256PrivateKey, keys: WebPushSubscriptionKeys) {
    let key = try P256PrivateKey()
    return (key, try WebPushSubscriptionKeys(p256dh: key.publicKey, auth: SecureRandom.bytes(16)))
}

@Suite struct WebPushEncryptorTests {
    @Test func reproducesTheRFC8291Example() throws {
        let keys = try WebPushSubscriptionKeys(p256dh: RFC8291.userAgentPublic, auth: RFC8291.auth)
        let serverKey = try P256PrivateKey(rawScalar: Base64URL.decode(RFC8291.serverPrivate))
        #expect(Base64URL.encode(serverKey.publicKey.uncompressedPoint) == RFC8291.serverPublic)
        let body = try WebPushEncryptor.encrypt(
            Array(RFC8291.plaintext.utf8), for: keys, ephemeralKey: serverKey, salt: Base64URL.decode(RFC8291.salt))
        #expect(Base64URL.encode(body) == RFC8291.message)
    }

    /// The test's own user-agent decryption agrees with the RFC, so the round trips below mean something.
    @Test func theRFC8291MessageDecryptsWithTheUserAgentKey() throws {
        let userAgent = try P256PrivateKey(rawScalar: Base64URL.decode(RFC8291.userAgentPrivate))
        #expect(Base64URL.encode(userAgent.publicKey.uncompressedPoint) == RFC8291.userAgentPublic)
        let result = try WebPushDecryption.decrypt(Base64URL.decode(RFC8291.message), userAgentKey: userAgent, auth: Base64URL.decode(RFC8291.auth))
        #expect(String(decoding: result.plaintext, as: UTF8.self) == RFC8291.plaintext)
        #expect(result.recordSize == 4096)
    }

    @Test func everyMessageHasAFreshKeyAndSaltAndDecrypts() throws {
        let userAgent = try makeUserAgent()
        let plaintext = Array("Your order 42 has shipped".utf8)
        let first = try WebPushEncryptor.encrypt(plaintext, for: userAgent.keys)
        let second = try WebPushEncryptor.encrypt(plaintext, for: userAgent.keys)
        let one = try WebPushDecryption.decrypt(first, userAgentKey: userAgent.key, auth: userAgent.keys.auth)
        let other = try WebPushDecryption.decrypt(second, userAgentKey: userAgent.key, auth: userAgent.keys.auth)
        #expect(one.plaintext == plaintext)
        #expect(other.plaintext == plaintext)
        #expect(one.salt != other.salt)
        #expect(one.serverPublicKey != other.serverPublicKey)
        #expect(one.serverPublicKey.count == 65)
        #expect(first.count == 86 + plaintext.count + 1 + 16)
        #expect(Array(first[16..<21]) == [0x00, 0x00, 0x10, 0x00, 65])
    }

    @Test func anotherSubscriptionCannotDecrypt() throws {
        let userAgent = try makeUserAgent()
        let stranger = try makeUserAgent()
        let body = try WebPushEncryptor.encrypt(Array("secret".utf8), for: userAgent.keys)
        #expect(throws: CryptoError.authenticationFailed) {
            try WebPushDecryption.decrypt(body, userAgentKey: stranger.key, auth: stranger.keys.auth)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try WebPushDecryption.decrypt(body, userAgentKey: userAgent.key, auth: stranger.keys.auth)
        }
    }

    /// RFC 8291 §4: one 4096-byte body holds 3993 bytes of plaintext, and no more.
    @Test func enforcesTheOneRecordLimit() throws {
        let userAgent = try makeUserAgent()
        #expect(WebPushEncryptor.maximumPlaintextLength == 3993)
        let largest = [UInt8](repeating: 0x61, count: 3993)
        let body = try WebPushEncryptor.encrypt(largest, for: userAgent.keys)
        #expect(body.count == 4096)
        #expect(try WebPushDecryption.decrypt(body, userAgentKey: userAgent.key, auth: userAgent.keys.auth).plaintext == largest)
        #expect(throws: WebPushError.payloadTooLarge(size: 3994, limit: 3993)) {
            try WebPushEncryptor.encrypt(largest + [0x61], for: userAgent.keys)
        }
        let empty = try WebPushEncryptor.encrypt([], for: userAgent.keys)
        #expect(try WebPushDecryption.decrypt(empty, userAgentKey: userAgent.key, auth: userAgent.keys.auth).plaintext == [])
    }
}
