import Foundation
import HTTPTypes
import Testing
@testable import ShopfloorTransport

/// The RFC 6455 §1.3 sample nonce.
private let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

/// An upgrade request with the usual fields; `changes` replace or add fields (a `nil` value removes).
private func makeUpgradeRequest(
    method: HTTPRequest.Method = .get, _ changes: [(HTTPField.Name, String?)] = [], isHTTP10: Bool = false
) -> HTTPServerRequest {
    var fields: HTTPFields = [
        .upgrade: "websocket",
        .connection: "Upgrade",
        .secWebSocketKey: sampleKey,
        .secWebSocketVersion: "13",
    ]
    for (name, value) in changes { fields[name] = value }
    var request = HTTPServerRequest(head: HTTPRequest(method: method, scheme: nil, authority: "127.0.0.1", path: "/ws", headerFields: fields))
    request.isHTTP10 = isHTTP10
    return request
}

private final class NoHandler: WebSocketHandler {
    func webSocket(_ socket: WebSocket, didReceive message: WebSocketMessage) {}
    func webSocketDidClose(_ socket: WebSocket) {}
}

private func upgrade(
    _ request: HTTPServerRequest, options: WebSocketOptions = WebSocketOptions()
) throws(WebSocketHandshakeError) -> HTTPServerResponse {
    try WebSocketHandshake.upgrade(request, options: options) { _ in NoHandler() }
}

private func negotiated(_ response: HTTPServerResponse) -> PerMessageDeflate?? {
    if case .webSocket(let upgrade) = response.body { upgrade.deflate } else { nil }
}

@Suite struct WebSocketHandshakeTests {
    @Test func acceptValueMatchesTheRFCExample() {
        // RFC 6455 §1.3.
        #expect(WebSocketHandshake.acceptValue(for: sampleKey) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    /// RFC 4648 §10 test vectors.
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")])
    func base64EncodesTheRFCVectors(_ input: String, _ expected: String) {
        #expect(Base64.encode(Array(input.utf8)) == expected)
    }

    @Test func base64AgreesWithFoundationOnBinaryInput() {
        for count in 0...64 {
            let bytes = randomBytes(count, seed: UInt64(count) &* 31)
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString(), "\(count) bytes")
        }
        #expect(Base64.encode([0xFF, 0xFE, 0xFD]) == "//79")
        #expect(Base64.encode([0xFB, 0xEF]) == "++8=")
    }

    @Test func validRequestIsAnswered101WithTheAcceptValue() throws {
        let response = try upgrade(makeUpgradeRequest())
        #expect(response.status == .switchingProtocols)
        #expect(response.headerFields[.upgrade] == "websocket")
        #expect(response.headerFields[.connection] == "Upgrade")
        #expect(response.headerFields[.secWebSocketAccept] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(response.headerFields[.secWebSocketExtensions] == nil)
        let deflate = try #require(negotiated(response))
        #expect(deflate == nil)
    }

    @Test func tokensAreMatchedInListsAndWithoutRegardToCase() throws {
        let response = try upgrade(makeUpgradeRequest([
            (.upgrade, "h2c, WebSocket"), (.connection, "keep-alive, UPGRADE"), (.secWebSocketVersion, " 13 "),
        ]))
        #expect(response.status == .switchingProtocols)
    }

    @Test func offeredCompressionIsNegotiated() throws {
        let request = makeUpgradeRequest([(.secWebSocketExtensions, "permessage-deflate; client_max_window_bits")])
        let response = try upgrade(request)
        #expect(response.headerFields[.secWebSocketExtensions] == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        #expect(negotiated(response) == .some(PerMessageDeflate(serverMaxWindowBits: 15, clientNoContextTakeover: true)))

        let keepContext = try upgrade(request, options: WebSocketOptions(requireClientNoContextTakeover: false))
        #expect(keepContext.headerFields[.secWebSocketExtensions] == "permessage-deflate; server_no_context_takeover")

        let off = try upgrade(request, options: WebSocketOptions(compression: false))
        #expect(off.headerFields[.secWebSocketExtensions] == nil)
        #expect(negotiated(off) == .some(nil))
    }

    @Test func declinedCompressionStillUpgrades() throws {
        let response = try upgrade(makeUpgradeRequest([(.secWebSocketExtensions, "permessage-deflate; server_max_window_bits=8")]))
        #expect(response.status == .switchingProtocols)
        #expect(response.headerFields[.secWebSocketExtensions] == nil)
    }

    @Test func missingUpgradeIsNotAnUpgrade() {
        #expect(throws: WebSocketHandshakeError.notAnUpgrade) { try upgrade(makeUpgradeRequest([(.upgrade, nil)])) }
        #expect(throws: WebSocketHandshakeError.notAnUpgrade) { try upgrade(makeUpgradeRequest([(.upgrade, "h2c")])) }
    }

    @Test func missingConnectionUpgradeIsNotAnUpgrade() {
        #expect(throws: WebSocketHandshakeError.notAnUpgrade) { try upgrade(makeUpgradeRequest([(.connection, nil)])) }
        #expect(throws: WebSocketHandshakeError.notAnUpgrade) { try upgrade(makeUpgradeRequest([(.connection, "keep-alive")])) }
    }

    @Test(arguments: [HTTPRequest.Method.post, .head, .put, .options])
    func otherMethodThanGetIsNotAnUpgrade(_ method: HTTPRequest.Method) {
        #expect(throws: WebSocketHandshakeError.notAnUpgrade) { try upgrade(makeUpgradeRequest(method: method)) }
    }

    @Test func http10IsNotAnUpgrade() {
        #expect(throws: WebSocketHandshakeError.notAnUpgrade) { try upgrade(makeUpgradeRequest(isHTTP10: true)) }
    }

    @Test(arguments: ["8", "12", "14", "", "13, 8"])
    func otherVersionIsUnsupported(_ version: String) {
        #expect(throws: WebSocketHandshakeError.unsupportedVersion) { try upgrade(makeUpgradeRequest([(.secWebSocketVersion, version)])) }
    }

    @Test func missingVersionIsUnsupported() {
        #expect(throws: WebSocketHandshakeError.unsupportedVersion) { try upgrade(makeUpgradeRequest([(.secWebSocketVersion, nil)])) }
    }

    @Test(arguments: [
        "", "abc", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZQAA",
        "dGhlIHNhbXBsZSBub25jZ!==", "dGhlIHNhbXBsZSBub25jZ-==", "dGhlIHNhbXBsZSBub25jZQ==dGhl", "dGhlIHNhbXBsZSBub25j",
    ])
    func malformedKeyIsInvalid(_ key: String) {
        #expect(throws: WebSocketHandshakeError.invalidKey) { try upgrade(makeUpgradeRequest([(.secWebSocketKey, key)])) }
    }

    @Test func missingKeyIsInvalid() {
        #expect(throws: WebSocketHandshakeError.invalidKey) { try upgrade(makeUpgradeRequest([(.secWebSocketKey, nil)])) }
    }

    @Test func refusalsAreCheckedInOrder() {
        // Not an upgrade wins over a bad version and key; a bad version wins over a bad key.
        #expect(throws: WebSocketHandshakeError.notAnUpgrade) {
            try upgrade(makeUpgradeRequest(method: .post, [(.secWebSocketVersion, "8"), (.secWebSocketKey, nil)]))
        }
        #expect(throws: WebSocketHandshakeError.unsupportedVersion) {
            try upgrade(makeUpgradeRequest([(.secWebSocketVersion, "8"), (.secWebSocketKey, nil)]))
        }
    }
}
