import Foundation
import ShopfloorCrypto

/// Tracked links of a flow's or campaign's message (API.md, Automation, engagement): every link in it
/// to the shop's own public URL leads through `<public URL>/v1/m/<message>/click?url=…&sig=…`
/// (recorded, then redirected), and its HTML part carries a pixel, `/v1/m/<message>/open?sig=…`. The
/// signature is an HMAC of the message id and the target under a key derived from the data
/// directory's `secrets.key`, so the redirect goes only where the server itself wrote a link. Links
/// elsewhere are left as they are: a value a customer wrote (a name that is a URL) is rendered into
/// the message too, and signing it would make the shop's domain redirect to anyone's.
public struct TrackingLinks: Sendable {
    private let key: [UInt8]
    private let baseURL: String

    /// Bytes of HMAC kept in a link: 128 bits.
    private static let macLength = 16

    public init(secretsKey: [UInt8], publicURL: String) {
        key = HKDF.deriveKey(salt: [], inputKeyingMaterial: secretsKey, info: Array("shopfloor tracking links".utf8), length: 32)
        baseURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    public func openURL(_ id: MessageID) -> String {
        "\(baseURL)/v1/m/\(id.rawValue)/open?sig=\(signature(id, target: ""))"
    }

    public func clickURL(_ id: MessageID, target: String) -> String {
        "\(baseURL)/v1/m/\(id.rawValue)/click?url=\(Self.encoded(target))&sig=\(signature(id, target: target))"
    }

    /// Whether `signature` is the server's for this message and target (`""` for the pixel).
    public func verifies(_ id: MessageID, target: String, signature given: String) -> Bool {
        guard given.utf8.count <= 64, let bytes = try? Base64URL.decode(given) else { return false }
        return Digest.constantTimeEquals(bytes, mac(id, target))
    }

    private func signature(_ id: MessageID, target: String) -> String {
        Base64URL.encode(mac(id, target))
    }

    private func mac(_ id: MessageID, _ target: String) -> [UInt8] {
        Array(Digest.hmacSHA256(key: key, message: Array("\(id.rawValue)\n\(target)".utf8)).prefix(Self.macLength))
    }

    /// Characters a query value keeps as they are (RFC 3986 unreserved).
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    // MARK: Rewriting a message

    /// `message` with every link tracked: `href="http…"` in its HTML part (and the pixel before
    /// `</body>`, or at the end), each `http(s)://…` in its text, and its push link.
    func tracked(_ message: Message) -> Message {
        // (Only links to the shop itself: see the type's note.)
        var tracked = message
        tracked.text = rewriteText(message.text, id: message.id)
        if let html = message.html {
            var rewritten = rewriteHrefs(html, id: message.id)
            let pixel = #"<img src="\#(Self.escaped(openURL(message.id)))" width="1" height="1" alt="">"#
            if let body = rewritten.range(of: "</body>", options: [.caseInsensitive, .backwards]) {
                rewritten.insert(contentsOf: pixel, at: body.lowerBound)
            } else {
                rewritten += pixel
            }
            tracked.html = rewritten
        }
        if let link = message.link, isShop(link) { tracked.link = clickURL(message.id, target: link) }
        return tracked
    }

    /// Each `http://` or `https://` URL in plain text, up to white space or a quote or angle bracket,
    /// without the punctuation that ends a sentence after it.
    private func rewriteText(_ text: String, id: MessageID) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = Self.nextURL(in: rest) {
            out += rest[..<start]
            var end = rest[start...].firstIndex { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" } ?? rest.endIndex
            while end > start, ".,;:!?)".contains(rest[rest.index(before: end)]) { end = rest.index(before: end) }
            let target = String(rest[start..<end])
            out += isShop(target) ? clickURL(id, target: target) : target
            rest = rest[end...]
        }
        return out + rest
    }

    /// The value of each `href="http…"`, decoded from and encoded back to HTML.
    private func rewriteHrefs(_ html: String, id: MessageID) -> String {
        var out = ""
        var rest = Substring(html)
        while let attribute = rest.range(of: #"href=""#, options: .caseInsensitive) {
            out += rest[..<attribute.upperBound]
            rest = rest[attribute.upperBound...]
            guard let close = rest.firstIndex(of: "\"") else { break }
            let value = String(rest[..<close])
            let target = Self.unescaped(value)
            out += isShop(target) ? Self.escaped(clickURL(id, target: target)) : value
            rest = rest[close...]
        }
        return out + rest
    }

    /// Whether `url` is on the shop's own public URL.
    private func isShop(_ url: String) -> Bool {
        url == baseURL || url.hasPrefix(baseURL + "/") || url.hasPrefix(baseURL + "?")
    }

    private static func nextURL(in text: Substring) -> Substring.Index? {
        let http = text.range(of: "http://")?.lowerBound
        let https = text.range(of: "https://")?.lowerBound
        switch (http, https) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// What Mustache's HTML escaping may have made of a URL, back to the URL.
    private static func unescaped(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = text
        for (entity, character) in [("&quot;", "\""), ("&#39;", "'"), ("&#x27;", "'"), ("&#x2F;", "/"), ("&#x3D;", "="), ("&#x60;", "`"),
                                    ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        return result
    }
}
