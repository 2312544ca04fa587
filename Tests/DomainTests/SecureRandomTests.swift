import ShopfloorCrypto
import Testing

@Suite struct SecureRandomTests {
    /// Draws across several refills of the pool: every draw has its length and none repeats.
    @Test func pooledDrawsHaveTheirLengthAndNeverRepeat() {
        var seen = Set<[UInt8]>()
        for index in 0..<2_000 {
            let count = [1, 5, 16, 33, 64][index % 5]
            let bytes = SecureRandom.bytes(count)
            #expect(bytes.count == count)
            if count >= 16 { #expect(seen.insert(bytes).inserted) }
        }
        #expect(seen.count == 1_200)
    }

    @Test func largeDrawsComeStraightFromOpenSSL() {
        let first = SecureRandom.bytes(10_000)
        let second = SecureRandom.bytes(10_000)
        #expect(first.count == 10_000)
        #expect(first != second)
        // Not all one byte value: 10,000 bytes from a working generator use most of the 256.
        #expect(Set(first).count > 200)
    }

    @Test func identifiersAreCrockfordBase32() {
        let id = SecureRandom.base32(16)
        #expect(id.count == 26)
        #expect(id.allSatisfy { "0123456789abcdefghjkmnpqrstvwxyz".contains($0) })
        #expect(SecureRandom.base32(16) != id)
    }
}
