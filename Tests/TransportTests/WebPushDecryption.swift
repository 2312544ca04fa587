import ShopfloorCrypto

/// The user agent's half of RFC 8291, written from the RFC for tests: what a browser does with a
/// body ``WebPushEncryptor`` made. Throws ``Failure`` for any body a browser would drop.
enum WebPushDecryption {
    struct Failure: Error, Equatable {
        let reason: String
    }

    /// The header's fields and the plaintext.
    struct Result {
        let salt: [UInt8]
        let recordSize: Int
        let serverPublicKey: [UInt8]
        let plaintext: [UInt8]
    }

    static func decrypt(_ body: [UInt8], userAgentKey: P256PrivateKey, auth: [UInt8]) throws -> Result {
        guard body.count >= 21 else { throw Failure(reason: "short header") }
        let salt = Array(body[0..<16])
        let recordSize = body[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let idLength = Int(body[20])
        guard body.count >= 21 + idLength else { throw Failure(reason: "short key id") }
        let serverPublicKey = Array(body[21..<(21 + idLength)])
        let record = Array(body[(21 + idLength)...])
        guard record.count <= recordSize else { throw Failure(reason: "more than one record") }

        let serverKey = try P256PublicKey(uncompressedPoint: serverPublicKey)
        let userAgentPublic = userAgentKey.publicKey.uncompressedPoint
        let sharedSecret = try userAgentKey.sharedSecret(with: serverKey)
        let keyInfo = Array("WebPush: info\0".utf8) + userAgentPublic + serverPublicKey
        let inputKeyingMaterial = HKDF.deriveKey(salt: auth, inputKeyingMaterial: sharedSecret, info: keyInfo, length: 32)
        let pseudorandomKey = HKDF.extract(salt: salt, inputKeyingMaterial: inputKeyingMaterial)
        let contentKey = HKDF.expand(pseudorandomKey: pseudorandomKey, info: Array("Content-Encoding: aes128gcm\0".utf8), length: 16)
        let nonce = HKDF.expand(pseudorandomKey: pseudorandomKey, info: Array("Content-Encoding: nonce\0".utf8), length: 12)
        var padded = try AES128GCM.open(record, key: contentKey, nonce: nonce)
        // RFC 8188 §2: padding is zeros after the delimiter, and the last record's delimiter is 2.
        while padded.last == 0 { padded.removeLast() }
        guard padded.popLast() == 0x02 else { throw Failure(reason: "no last-record delimiter") }
        return Result(salt: salt, recordSize: recordSize, serverPublicKey: serverPublicKey, plaintext: padded)
    }
}
