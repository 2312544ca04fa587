import ShopfloorCrypto
import ShopfloorDomain

/// One-click unsubscribe links for marketing email (RFC 8058): `List-Unsubscribe` names
/// `<public URL>/v1/unsubscribe/<token>`, and a POST there unsubscribes the address without signing
/// in. The token carries the channel and address and an HMAC of them under a key derived from the data
/// directory's `secrets.key`, so only the server can make one and a link works for as long as the key.
struct UnsubscribeLinks: Sendable {
    private let key: [UInt8]
    private let baseURL: String

    /// Bytes of HMAC kept in a token: 128 bits, ample against guessing, and a shorter link.
    private static let macLength = 16

    init(secretsKey: [UInt8], publicURL: String) {
        key = HKDF.deriveKey(salt: [], inputKeyingMaterial: secretsKey, info: Array("shopfloor unsubscribe links".utf8), length: 32)
        baseURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    func url(for address: String, channel: MessageChannel) -> String {
        "\(baseURL)/v1/unsubscribe/\(token(for: address, channel: channel))"
    }

    func token(for address: String, channel: MessageChannel) -> String {
        let subject = Array("\(channel.rawValue):\(address)".utf8)
        return Base64URL.encode(subject) + "." + Base64URL.encode(mac(subject))
    }

    /// The channel and address a token was made for, or `nil` when the server did not make it.
    func subject(of token: String) -> (channel: MessageChannel, address: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 1_000, parts.count == 2, let subject = try? Base64URL.decode(parts[0]),
              let given = try? Base64URL.decode(parts[1]), Digest.constantTimeEquals(given, mac(subject)) else { return nil }
        let text = String(decoding: subject, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":"), let channel = MessageChannel(rawValue: String(text[..<colon])) else { return nil }
        return (channel, String(text[text.index(after: colon)...]))
    }

    private func mac(_ subject: [UInt8]) -> [UInt8] {
        Array(Digest.hmacSHA256(key: key, message: subject).prefix(Self.macLength))
    }
}
