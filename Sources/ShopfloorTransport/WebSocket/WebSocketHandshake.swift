import HTTPTypes
import ShopfloorCrypto

/// What a route returns to turn its connection into a WebSocket: the negotiated settings and how to
/// make the handler once the switch has happened.
public struct WebSocketUpgrade: Sendable {
    let options: WebSocketOptions
    let deflate: PerMessageDeflate?
    let makeHandler: @Sendable (WebSocket) -> any WebSocketHandler
}

/// The opening handshake of RFC 6455 §4.2, server side.
public enum WebSocketHandshake {
    /// Checks an upgrade request and answers `101 Switching Protocols`; the connection becomes a
    /// WebSocket once that response is sent, and `makeHandler` is called on its event loop.
    ///
    /// Refusals: not a WebSocket upgrade (no `Upgrade: websocket` / `Connection: upgrade`, or not an
    /// HTTP/1.1 GET) and a `Sec-WebSocket-Version` other than 13 are 426 with the version we speak;
    /// a missing or malformed `Sec-WebSocket-Key` is 400.
    public static func upgrade(
        _ request: HTTPServerRequest, options: WebSocketOptions,
        makeHandler: @escaping @Sendable (WebSocket) -> any WebSocketHandler
    ) throws(WebSocketHandshakeError) -> HTTPServerResponse {
        let fields = request.head.headerFields
        guard request.head.method == .get, !request.isHTTP10,
              fields[values: .upgrade].contains(where: { hasToken($0, "websocket") }),
              fields[values: .connection].contains(where: { hasToken($0, "upgrade") })
        else { throw .notAnUpgrade }
        guard fields[values: .secWebSocketVersion].map({ $0.trimmingCharacters(in: " \t") }) == ["13"] else { throw .unsupportedVersion }
        guard let key = fields[.secWebSocketKey]?.trimmingCharacters(in: " \t"), isValidKey(key) else { throw .invalidKey }
        let deflate = options.compression
            ? PerMessageDeflate.negotiate(offers: fields[values: .secWebSocketExtensions], requireClientNoContextTakeover: options.requireClientNoContextTakeover)
            : nil
        var response: HTTPFields = [
            .upgrade: "websocket",
            .connection: "Upgrade",
            .secWebSocketAccept: acceptValue(for: key),
        ]
        if let deflate { response[.secWebSocketExtensions] = deflate.responseValue }
        let upgrade = WebSocketUpgrade(options: options, deflate: deflate, makeHandler: makeHandler)
        return HTTPServerResponse(status: .switchingProtocols, headerFields: response, body: .webSocket(upgrade))
    }

    /// `base64(SHA-1(key + GUID))` (RFC 6455 §4.2.2 step 5.4).
    static func acceptValue(for key: String) -> String {
        Base64.encode(Digest.sha1(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
    }

    /// A key is the base64 of 16 bytes: 22 characters and `==`.
    private static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard bytes.count == 24, bytes[22] == UInt8(ascii: "="), bytes[23] == UInt8(ascii: "=") else { return false }
        return bytes[..<22].allSatisfy { Base64.alphabet.contains($0) }
    }

    private static func hasToken(_ value: String, _ token: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingCharacters(in: " \t").lowercased() == token }
    }
}

/// Why an upgrade request was refused.
public enum WebSocketHandshakeError: Error, Equatable {
    /// Not a WebSocket upgrade: answer 426 with `Upgrade: websocket`.
    case notAnUpgrade
    /// A protocol version other than 13: answer 426 with `Sec-WebSocket-Version: 13`.
    case unsupportedVersion
    /// `Sec-WebSocket-Key` missing or not the base64 of 16 bytes: answer 400.
    case invalidKey
}

/// Base64 (RFC 4648 §4) encoding, for the accept value.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * UInt32(position)) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
