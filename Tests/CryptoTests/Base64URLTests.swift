import ShopfloorCrypto
import Testing

@Suite struct Base64URLTests {
    /// RFC 4648 §10's vectors, without their padding.
    @Test(arguments: [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")])
    func encodesAndDecodesTheRFCVectorsWithoutPadding(plain: String, encoded: String) throws {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(try Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test func usesTheURLSafeAlphabet() throws {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.encode([0xFF]) == "_w")
        #expect(try Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
    }

    @Test func acceptsCorrectPadding() throws {
        #expect(try Base64URL.decode("Zg==") == Array("f".utf8))
        #expect(try Base64URL.decode("Zm8=") == Array("fo".utf8))
    }

    @Test(arguments: [
        ("Zm9v+A", 4),  // standard base64's `+`
        ("Zm9v/w", 4),  // and its `/`
        (" Zg", 0),     // whitespace
        ("Zm\n9", 2),   // a line break
        ("Z=g=", 1),    // padding in the middle
        ("Zg=", 2),     // too little padding for a group of four
        ("Zg===", 2),   // too much
        ("Z", 0),       // one character encodes no byte
        ("Zm9vY", 4),
        ("Zh", 1),      // "f" with a non-zero unused bit
        ("Zm9=", 2),
    ])
    func refusesNonCanonicalOrForeignText(text: String, position: Int) {
        #expect(throws: CryptoError.invalidBase64URL(position: position)) { try Base64URL.decode(text) }
    }

    @Test func roundTripsEveryLengthAndByteValue() throws {
        for length in 0...66 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ length) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("="))
            #expect(try Base64URL.decode(text) == bytes)
        }
        let all = (0...255).map(UInt8.init)
        #expect(try Base64URL.decode(Base64URL.encode(all)) == all)
    }
}
