import ShopfloorCrypto
import Testing

@Suite struct HKDFTests {
    /// RFC 5869 Appendix A.1, test case 1 (SHA-256, basic).
    @Test func matchesRFC5869TestCase1() {
        let inputKeyingMaterial = [UInt8](repeating: 0x0B, count: 22)
        let salt = hex("000102030405060708090a0b0c")
        let info = hex("f0f1f2f3f4f5f6f7f8f9")
        let pseudorandomKey = HKDF.extract(salt: salt, inputKeyingMaterial: inputKeyingMaterial)
        #expect(pseudorandomKey == hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"))
        let expected = hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        #expect(HKDF.expand(pseudorandomKey: pseudorandomKey, info: info, length: 42) == expected)
        #expect(HKDF.deriveKey(salt: salt, inputKeyingMaterial: inputKeyingMaterial, info: info, length: 42) == expected)
    }

    /// RFC 5869 Appendix A.3, test case 3: an empty salt stands for 32 zero bytes.
    @Test func treatsAnEmptySaltAsZerosAsRFC5869TestCase3() {
        let inputKeyingMaterial = [UInt8](repeating: 0x0B, count: 22)
        let pseudorandomKey = HKDF.extract(salt: [], inputKeyingMaterial: inputKeyingMaterial)
        #expect(pseudorandomKey == hex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"))
        #expect(HKDF.expand(pseudorandomKey: pseudorandomKey, info: [], length: 42)
            == hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"))
    }

    @Test func shorterOutputsArePrefixesOfLongerOnes() {
        let key = [UInt8](repeating: 7, count: 32)
        let long = HKDF.expand(pseudorandomKey: key, info: [1, 2], length: 100)
        for length in [0, 1, 12, 16, 32, 33, 64, 99] {
            #expect(HKDF.expand(pseudorandomKey: key, info: [1, 2], length: length) == Array(long.prefix(length)))
        }
        #expect(HKDF.expand(pseudorandomKey: key, info: [], length: HKDF.maximumLength).count == 8160)
    }
}
