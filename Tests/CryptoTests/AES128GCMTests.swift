import ShopfloorCrypto
import Testing

@Suite struct AES128GCMTests {
    /// McGrew and Viega's GCM specification, test cases 1 to 3 (the AES-128 ones without associated
    /// data), as NIST's GCM validation vectors repeat them.
    @Test(arguments: [
        ("00000000000000000000000000000000", "000000000000000000000000", "", "", "58e2fccefa7e3061367f1d57a4e7455a"),
        ("00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000",
         "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"),
        ("feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
         "4d5c2af327cd64a62cf35abd2ba6fab4"),
    ])
    func matchesTheKnownAnswers(key: String, nonce: String, plaintext: String, ciphertext: String, tag: String) throws {
        let sealed = try AES128GCM.seal(hex(plaintext), key: hex(key), nonce: hex(nonce))
        #expect(sealed == hex(ciphertext) + hex(tag))
        #expect(try AES128GCM.open(sealed, key: hex(key), nonce: hex(nonce)) == hex(plaintext))
    }

    @Test func refusesAnyChangedByte() throws {
        let key = hex("feffe9928665731c6d6a8f9467308308")
        let nonce = hex("cafebabefacedbaddecaf888")
        let sealed = try AES128GCM.seal(Array("the parcel leaves today".utf8), key: key, nonce: nonce)
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(throws: CryptoError.authenticationFailed) { try AES128GCM.open(tampered, key: key, nonce: nonce) }
        }
        var otherKey = key
        otherKey[0] ^= 0x80
        #expect(throws: CryptoError.authenticationFailed) { try AES128GCM.open(sealed, key: otherKey, nonce: nonce) }
        var otherNonce = nonce
        otherNonce[11] ^= 0x01
        #expect(throws: CryptoError.authenticationFailed) { try AES128GCM.open(sealed, key: key, nonce: otherNonce) }
        #expect(throws: CryptoError.authenticationFailed) { try AES128GCM.open(Array(sealed.dropFirst()), key: key, nonce: nonce) }
    }

    @Test func refusesWrongSizes() {
        let nonce = [UInt8](repeating: 0, count: 12)
        #expect(throws: CryptoError.invalidLength(of: "AES-128 key", expected: 16, actual: 32)) {
            try AES128GCM.seal([1], key: [UInt8](repeating: 0, count: 32), nonce: nonce)
        }
        #expect(throws: CryptoError.invalidLength(of: "AES-GCM nonce", expected: 12, actual: 16)) {
            try AES128GCM.seal([1], key: [UInt8](repeating: 0, count: 16), nonce: [UInt8](repeating: 0, count: 16))
        }
        #expect(throws: CryptoError.invalidLength(of: "sealed message", expected: 16, actual: 15)) {
            try AES128GCM.open([UInt8](repeating: 0, count: 15), key: [UInt8](repeating: 0, count: 16), nonce: nonce)
        }
    }
}
