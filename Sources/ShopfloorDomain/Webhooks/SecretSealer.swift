/// Keeps a secret the server must be able to read back (a webhook's signing key: HMAC needs the key
/// itself, so a hash will not do) unreadable at rest. The database alone, say a backup or a copied
/// file, then gives away no signing key; the sealing key lives apart from it.
public protocol SecretSealer: Sendable {
    func seal(_ secret: String) -> String
    /// The secret `sealed` was made from; throws when it was sealed with another key or altered.
    func open(_ sealed: String) throws -> String
}
