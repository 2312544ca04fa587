import ShopfloorCrypto
import Testing
import ShopfloorTransport

private let now: Int64 = 1_767_182_400  // 2025-12-31T12:00:00Z

/// The parts of `vapid t=<JWT>, k=<key>`, decoded.
private struct ParsedAuthorization {
    let header: String
    let claims: String
    let signingInput: String
    let signature: [UInt8]
    let key: P256PublicKey

    init(_ value: String) throws {
        let prefix = "vapid t="
        try #require(value.hasPrefix(prefix))
        let parameters = value.dropFirst(prefix.count).split(separator: ", k=", omittingEmptySubsequences: false)
        try #require(parameters.count == 2)
        let parts = parameters[0].split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3)
        header = String(decoding: try Base64URL.decode(parts[0]), as: UTF8.self)
        claims = String(decoding: try Base64URL.decode(parts[1]), as: UTF8.self)
        signingInput = "\(parts[0]).\(parts[1])"
        signature = try Base64URL.decode(parts[2])
        key = try P256PublicKey(uncompressedPoint: Base64URL.decode(parameters[1]))
    }
}

@Suite struct VAPIDTests {
    @Test func signsAJWTForTheEndpointsOrigin() throws {
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:ops@shop.example")
        let value = try vapid.authorization(
            for: "https://fcm.googleapis.com:443/fcm/send/abc:def", expiresAt: now + 3600, now: now)
        let parsed = try ParsedAuthorization(value)
        #expect(parsed.header == #"{"typ":"JWT","alg":"ES256"}"#)
        #expect(parsed.claims == #"{"aud":"https://fcm.googleapis.com","exp":1767186000,"sub":"mailto:ops@shop.example"}"#)
        #expect(parsed.signature.count == 64)
        #expect(parsed.key == vapid.privateKey.publicKey)
        #expect(Base64URL.encode(parsed.key.uncompressedPoint) == vapid.publicKey)
        #expect(try parsed.key.isValidSignature(parsed.signature, for: Array(parsed.signingInput.utf8)))
        #expect(try !parsed.key.isValidSignature(parsed.signature, for: Array((parsed.signingInput + "x").utf8)))
        #expect(try !P256PrivateKey().publicKey.isValidSignature(parsed.signature, for: Array(parsed.signingInput.utf8)))
    }

    @Test func theAudienceIsTheOriginWithItsPortUnlessDefault() throws {
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "https://shop.example/contact")
        let local = try ParsedAuthorization(vapid.authorization(for: "http://127.0.0.1:54321/push/abc", expiresAt: now + 60, now: now))
        #expect(local.claims == #"{"aud":"http://127.0.0.1:54321","exp":1767182460,"sub":"https://shop.example/contact"}"#)
    }

    @Test func escapesTheSubjectForJSON() throws {
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: #"mailto:"ops\desk"@shop.example"#)
        let parsed = try ParsedAuthorization(vapid.authorization(for: "https://push.example/x", expiresAt: now + 60, now: now))
        #expect(parsed.claims == #"{"aud":"https://push.example","exp":1767182460,"sub":"mailto:\"ops\\desk\"@shop.example"}"#)
    }

    /// RFC 8292 §2: the expiry is in the future and at most 24 hours away.
    @Test func refusesAnExpiryOutsideTheNext24Hours() throws {
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "mailto:ops@shop.example")
        #expect(try vapid.authorization(for: "https://push.example/x", expiresAt: now + 86_400, now: now).hasPrefix("vapid t="))
        #expect(throws: WebPushError.invalidExpiry(expiresAt: now + 86_401, now: now)) {
            try vapid.authorization(for: "https://push.example/x", expiresAt: now + 86_401, now: now)
        }
        #expect(throws: WebPushError.invalidExpiry(expiresAt: now, now: now)) {
            try vapid.authorization(for: "https://push.example/x", expiresAt: now, now: now)
        }
        #expect(throws: WebPushError.invalidEndpoint("push.example/x")) {
            try vapid.authorization(for: "push.example/x", expiresAt: now + 60, now: now)
        }
    }

    @Test(arguments: ["ops@shop.example", "mailto:", "https:", "http://shop.example", "mailto:ops@shop.example\r\nX: y", ""])
    func refusesASubjectThatIsNotAMailtoOrHTTPSURI(subject: String) throws {
        let key = try P256PrivateKey()
        #expect(throws: WebPushError.invalidSubject(subject)) { try VAPID(privateKey: key, subject: subject) }
    }

    @Test func signaturesDifferButAllVerify() throws {
        let vapid = try VAPID(privateKey: P256PrivateKey(), subject: "MAILTO:ops@shop.example")
        let first = try ParsedAuthorization(vapid.authorization(for: "https://push.example/x", expiresAt: now + 60, now: now))
        let second = try ParsedAuthorization(vapid.authorization(for: "https://push.example/x", expiresAt: now + 60, now: now))
        #expect(first.signingInput == second.signingInput)
        #expect(first.signature != second.signature)
        #expect(try second.key.isValidSignature(second.signature, for: Array(second.signingInput.utf8)))
    }
}
