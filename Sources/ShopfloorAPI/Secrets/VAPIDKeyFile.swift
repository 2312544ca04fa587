import ShopfloorCrypto

/// The application server's Web Push key (RFC 8292): a P-256 key made on the first start and kept
/// in the data directory as PKCS#8 PEM (`vapid.pem`, 0600). Browsers subscribe with its public key
/// (`GET /v1/push/key`), and a push service accepts only messages signed with the same key, so it
/// is never replaced.
enum VAPIDKeyFile {
    static func loadOrCreate(dataDirectory: String) throws -> P256PrivateKey {
        let pem = try KeyFile.loadOrCreate(dataDirectory + "/vapid.pem") { Array(try P256PrivateKey().pemRepresentation().utf8) }
        return try P256PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
    }
}
