import ShopfloorCrypto
import ShopfloorDomain

/// Seals secrets the server must read back (webhook signing keys) with AES-128-GCM under a key kept
/// in the data directory (`secrets.key`, 0600), apart from the database: a copy of the database or a
/// backup alone gives away no signing key. Sealed form: `v1.` and the base64url of nonce, ciphertext
/// and tag; a fresh random nonce each time.
struct FileKeySealer: SecretSealer {
    private let key: [UInt8]

    enum Failure: Error, CustomStringConvertible {
        case badKeyFile(String)
        case notSealedHere

        var description: String {
            switch self {
            case .badKeyFile(let path): "the key file \(path) does not hold a \(AES128GCM.keyLength)-byte key"
            case .notSealedHere: "the secret was not sealed with this server's key"
            }
        }
    }

    /// `key` is the data directory's (``loadKey(dataDirectory:)``).
    init(key: [UInt8]) {
        precondition(key.count == AES128GCM.keyLength, "a sealing key is \(AES128GCM.keyLength) bytes")
        self.key = key
    }

    /// `<dataDirectory>/secrets.key`, made on the first start. Other keys (unsubscribe links) are
    /// derived from it, so the data directory holds one secret to keep, not one per use.
    static func loadKey(dataDirectory: String) throws -> [UInt8] {
        let path = dataDirectory + "/secrets.key"
        let key = try KeyFile.loadOrCreate(path) { SecureRandom.bytes(AES128GCM.keyLength) }
        guard key.count == AES128GCM.keyLength else { throw Failure.badKeyFile(path) }
        return key
    }

    func seal(_ secret: String) -> String {
        let nonce = SecureRandom.bytes(AES128GCM.nonceLength)
        // Sealing fails only on a wrong key or nonce size, which init and the line above rule out.
        guard let sealed = try? AES128GCM.seal(Array(secret.utf8), key: key, nonce: nonce) else {
            preconditionFailure("AES-128-GCM sealing failed with a checked key and nonce")
        }
        return "v1." + Base64URL.encode(nonce + sealed)
    }

    func open(_ sealed: String) throws -> String {
        guard sealed.hasPrefix("v1.") else { throw Failure.notSealedHere }
        let bytes = try Base64URL.decode(sealed.dropFirst(3))
        guard bytes.count >= AES128GCM.nonceLength + AES128GCM.tagLength else { throw Failure.notSealedHere }
        let nonce = Array(bytes.prefix(AES128GCM.nonceLength))
        do {
            return String(decoding: try AES128GCM.open(Array(bytes.dropFirst(AES128GCM.nonceLength)), key: key, nonce: nonce), as: UTF8.self)
        } catch {
            throw Failure.notSealedHere
        }
    }
}
