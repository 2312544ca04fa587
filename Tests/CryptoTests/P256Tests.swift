import ShopfloorCrypto
import Testing

/// RFC 7515 Appendix A.3: an ES256 key (JWK `x`, `y`, `d`) and a JWS it signed.
private enum RFC7515 {
    static let d = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
    static let x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    static let y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    static let signingInput = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    static let signature = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

    static func point() throws -> [UInt8] { try [0x04] + Base64URL.decode(x) + Base64URL.decode(y) }
}

/// The same RFC 7515 key, written by Python's `cryptography` in the two PEM forms.
private let rfc7515PKCS8 = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff
    H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp
    7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt
    -----END PRIVATE KEY-----

    """
private let rfc7515SEC1 = """
    -----BEGIN EC PRIVATE KEY-----
    MHcCAQEEII6bEJ5xkJi/mASH3x9dd+nLKWBuvtImO19XwhPfhPSyoAoGCCqGSM49
    AwEHoUQDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEXH8UTNG72b
    focs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==
    -----END EC PRIVATE KEY-----

    """
/// A throwaway key on P-384, made with `openssl genpkey`, to be refused.
private let p384PKCS8 = """
    -----BEGIN PRIVATE KEY-----
    MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDCBQnBkyXVEWWsk9f4
    OkNU9+P48ItUaiHA77j/st2VgsMIWnf00b/90oRSNRaRIkihZANiAARx1SSRha1o
    xCbfwLaoJ3kTNxPd2UuKwjiVwL/2b6rFwQEUDhBG8MCstGwyo7KPQGnTU/YpcCwW
    incY1Ypop8yDq5HxaTb3y7gn5Tda1AfEt9n/UzRh1HMHutSW26kKNM0=
    -----END PRIVATE KEY-----

    """

/// P-256's order n, big-endian.
private let order = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")

@Suite struct P256Tests {
    @Test func generatedKeysAreDistinctAndUncompressed() throws {
        let first = try P256PrivateKey()
        let second = try P256PrivateKey()
        #expect(first.publicKey.uncompressedPoint.count == 65)
        #expect(first.publicKey.uncompressedPoint[0] == 0x04)
        #expect(first.publicKey != second.publicKey)
        #expect(try first.rawScalar() != second.rawScalar())
    }

    @Test func importsAScalarAndDerivesItsPublicPoint() throws {
        let key = try P256PrivateKey(rawScalar: Base64URL.decode(RFC7515.d))
        #expect(try key.publicKey.uncompressedPoint == RFC7515.point())
        #expect(try key.rawScalar() == Base64URL.decode(RFC7515.d))
    }

    @Test func ecdhGivesBothSidesTheSameSecret() throws {
        let server = try P256PrivateKey()
        let agent = try P256PrivateKey()
        let serverSide = try server.sharedSecret(with: agent.publicKey)
        #expect(serverSide.count == 32)
        #expect(try agent.sharedSecret(with: server.publicKey) == serverSide)
        #expect(try P256PrivateKey().sharedSecret(with: agent.publicKey) != serverSide)
    }

    /// RFC 8291 Appendix A: `as_private` with `ua_public` gives its `ecdh_secret`.
    @Test func ecdhMatchesTheRFC8291Example() throws {
        let server = try P256PrivateKey(rawScalar: Base64URL.decode("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
        let agent = try P256PublicKey(uncompressedPoint: Base64URL.decode(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"))
        #expect(try server.sharedSecret(with: agent) == Base64URL.decode("kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"))
    }

    @Test func signaturesVerifyAndTamperingFails() throws {
        let key = try P256PrivateKey()
        let message = Array("order 42 shipped".utf8)
        let signature = try key.signature(for: message)
        #expect(signature.count == 64)
        #expect(try key.publicKey.isValidSignature(signature, for: message))
        #expect(try !key.publicKey.isValidSignature(signature, for: Array("order 43 shipped".utf8)))
        for index in [0, 31, 32, 63] {
            var tampered = signature
            tampered[index] ^= 0x01
            #expect(try !key.publicKey.isValidSignature(tampered, for: message))
        }
        #expect(try !P256PrivateKey().publicKey.isValidSignature(signature, for: message))
        #expect(try !key.publicKey.isValidSignature(Array(signature.prefix(63)), for: message))
        #expect(try !key.publicKey.isValidSignature([UInt8](repeating: 0, count: 64), for: message))
        // A fresh nonce each time: two signatures of one message differ, and both verify.
        let again = try key.signature(for: message)
        #expect(again != signature)
        #expect(try key.publicKey.isValidSignature(again, for: message))
        #expect(try key.publicKey.isValidSignature(key.signature(for: []), for: []))
    }

    /// The raw `r || s` form is the one JWS uses: RFC 7515's own ES256 example verifies.
    @Test func verifiesTheRFC7515ES256Example() throws {
        let publicKey = try P256PublicKey(uncompressedPoint: RFC7515.point())
        let signature = try Base64URL.decode(RFC7515.signature)
        #expect(try publicKey.isValidSignature(signature, for: Array(RFC7515.signingInput.utf8)))
        #expect(try !publicKey.isValidSignature(signature, for: Array((RFC7515.signingInput + "x").utf8)))
    }

    @Test func pemRoundTripsAsPKCS8() throws {
        let key = try P256PrivateKey()
        let pem = try key.pemRepresentation()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(pem.hasSuffix("-----END PRIVATE KEY-----\n"))
        let restored = try P256PrivateKey(pemRepresentation: pem)
        #expect(try restored.rawScalar() == key.rawScalar())
        #expect(restored.publicKey == key.publicKey)
        #expect(try key.publicKey.isValidSignature(restored.signature(for: [1, 2, 3]), for: [1, 2, 3]))
    }

    @Test func readsPEMFromAnotherLibraryInBothForms() throws {
        let expected = try Base64URL.decode(RFC7515.d)
        #expect(try P256PrivateKey(pemRepresentation: rfc7515PKCS8).rawScalar() == expected)
        #expect(try P256PrivateKey(pemRepresentation: rfc7515SEC1).rawScalar() == expected)
        // Written again, it is the same PKCS#8 document `cryptography` wrote.
        #expect(try P256PrivateKey(rawScalar: expected).pemRepresentation() == rfc7515PKCS8)
    }

    @Test func refusesPEMThatIsNotAP256PrivateKey() {
        #expect(throws: CryptoError.invalidPrivateKey(reason: "on curve secp384r1, not P-256")) {
            try P256PrivateKey(pemRepresentation: p384PKCS8)
        }
        #expect {
            try P256PrivateKey(pemRepresentation: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        } throws: { error in
            guard case .invalidPrivateKey = error as? CryptoError else { return false }
            return true
        }
    }

    @Test func refusesScalarsOutsideTheGroup() throws {
        let outside = CryptoError.invalidPrivateKey(reason: "scalar not in [1, n − 1]")
        #expect(throws: outside) { try P256PrivateKey(rawScalar: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: outside) { try P256PrivateKey(rawScalar: order) }
        #expect(throws: outside) { try P256PrivateKey(rawScalar: [UInt8](repeating: 0xFF, count: 32)) }
        var largest = order
        largest[31] -= 1
        #expect(try P256PrivateKey(rawScalar: largest).rawScalar() == largest)
        #expect(try P256PrivateKey(rawScalar: [UInt8](repeating: 0, count: 31) + [1]).publicKey.uncompressedPoint.count == 65)
        #expect(throws: CryptoError.invalidLength(of: "P-256 private scalar", expected: 32, actual: 31)) {
            try P256PrivateKey(rawScalar: [UInt8](repeating: 1, count: 31))
        }
    }

    @Test func refusesPointsThatAreNotUncompressedOnTheCurve() throws {
        let point = try RFC7515.point()
        var offCurve = point
        offCurve[64] ^= 0x01
        #expect {
            try P256PublicKey(uncompressedPoint: offCurve)
        } throws: { error in
            guard case .invalidPublicKey = error as? CryptoError else { return false }
            return true
        }
        var compressed = point
        compressed[0] = 0x02
        #expect(throws: CryptoError.invalidPublicKey(reason: "not an uncompressed point (first byte is not 0x04)")) {
            try P256PublicKey(uncompressedPoint: compressed)
        }
        #expect(throws: CryptoError.invalidLength(of: "P-256 uncompressed point", expected: 65, actual: 33)) {
            try P256PublicKey(uncompressedPoint: Array(point.prefix(33)))
        }
        #expect(try P256PublicKey(uncompressedPoint: point).uncompressedPoint == point)
    }

    /// One key, shared by many tasks at once (what `Sendable` promises): every signature verifies and
    /// every shared secret is the same.
    @Test func oneKeyServesConcurrentTasks() async throws {
        let key = try P256PrivateKey()
        let peer = try P256PrivateKey()
        let expected = try key.sharedSecret(with: peer.publicKey)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var ok = true
                    for round in 0..<50 {
                        let message = [UInt8(task), UInt8(round)]
                        ok = try ok && key.publicKey.isValidSignature(key.signature(for: message), for: message)
                        ok = try ok && key.sharedSecret(with: peer.publicKey) == expected
                    }
                    return ok
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [Bool](repeating: true, count: 8))
    }
}
