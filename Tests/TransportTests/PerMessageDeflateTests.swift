#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Testing
@testable import ShopfloorTransport

private func negotiate(_ offers: [String], requireClientNoContextTakeover: Bool = true) -> PerMessageDeflate? {
    PerMessageDeflate.negotiate(offers: offers, requireClientNoContextTakeover: requireClientNoContextTakeover)
}

/// Compresses as the server does, then inflates as the connection does (the `00 00 FF FF` tail
/// put back first, RFC 7692 §7.2.2).
private func roundTrip(_ payload: [UInt8], windowBits: Int32 = 15, deflaters: inout [Int32: Deflater]) throws -> [UInt8] {
    let compressed = try #require(PerMessageDeflate.compress(payload, windowBits: windowBits, using: &deflaters))
    let inflater = try Inflater()
    var output: [UInt8] = []
    try inflater.inflate(compressed + [0x00, 0x00, 0xFF, 0xFF], into: &output, limit: payload.count)
    return output
}

private func isTooLarge(_ error: Inflater.InflateFailure?) -> Bool {
    if case .tooLarge? = error { true } else { false }
}

private func isCorrupt(_ error: Inflater.InflateFailure?) -> Bool {
    if case .corrupt? = error { true } else { false }
}

@Suite struct PerMessageDeflateTests {
    // MARK: Negotiation (RFC 7692 §5, §7.1)

    @Test func plainOfferIsAcceptedWithTheDefaults() throws {
        let accepted = try #require(negotiate(["permessage-deflate"]))
        #expect(accepted == PerMessageDeflate(serverMaxWindowBits: 15, clientNoContextTakeover: true))
        #expect(accepted.responseValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    }

    @Test func requireClientNoContextTakeoverIsReflectedInTheResponse() throws {
        let required = try #require(negotiate(["permessage-deflate"], requireClientNoContextTakeover: true))
        #expect(required.clientNoContextTakeover)
        #expect(required.responseValue.contains("client_no_context_takeover"))
        let optional = try #require(negotiate(["permessage-deflate"], requireClientNoContextTakeover: false))
        #expect(!optional.clientNoContextTakeover)
        #expect(optional.responseValue == "permessage-deflate; server_no_context_takeover")
    }

    @Test func clientOfferingNoContextTakeoverGetsItEvenWhenNotRequired() throws {
        let accepted = try #require(negotiate(["permessage-deflate; client_no_context_takeover"], requireClientNoContextTakeover: false))
        #expect(accepted.clientNoContextTakeover)
        #expect(accepted.responseValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    }

    @Test(arguments: ["permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10",
                      "permessage-deflate;client_max_window_bits=8", "permessage-deflate; client_max_window_bits=\"15\""])
    func clientMaxWindowBitsIsAccepted(_ offer: String) throws {
        let accepted = try #require(negotiate([offer]))
        #expect(accepted.serverMaxWindowBits == 15)
        #expect(accepted.responseValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    }

    @Test func serverMaxWindowBitsIsHonouredAndEchoed() throws {
        let accepted = try #require(negotiate(["permessage-deflate; server_max_window_bits=10"]))
        #expect(accepted.serverMaxWindowBits == 10)
        #expect(accepted.responseValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10")
        let quoted = try #require(negotiate(["permessage-deflate; server_max_window_bits=\"9\""]))
        #expect(quoted.serverMaxWindowBits == 9)
        #expect(quoted.responseValue.hasSuffix("; server_max_window_bits=9"))
        let full = try #require(negotiate(["permessage-deflate; server_max_window_bits=15"]))
        #expect(full.responseValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    }

    @Test func everyParameterTogetherIsAccepted() throws {
        let accepted = try #require(negotiate(
            ["PerMessage-Deflate; Server_No_Context_Takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits"],
            requireClientNoContextTakeover: false))
        #expect(accepted == PerMessageDeflate(serverMaxWindowBits: 12, clientNoContextTakeover: true))
    }

    /// zlib cannot write raw deflate with an 8-bit window (it silently uses 9), so the offer is declined.
    @Test func serverMaxWindowBitsOf8IsDeclined() {
        #expect(negotiate(["permessage-deflate; server_max_window_bits=8"]) == nil)
    }

    @Test func declinedOfferFallsThroughToTheNextOne() throws {
        let next = try #require(negotiate(["permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=11"]))
        #expect(next.serverMaxWindowBits == 11)
        let acrossFields = try #require(negotiate(["permessage-deflate; x-unknown", "permessage-deflate; client_max_window_bits"]))
        #expect(acrossFields == PerMessageDeflate(serverMaxWindowBits: 15, clientNoContextTakeover: true))
    }

    @Test func unknownParameterDeclinesTheOffer() throws {
        #expect(negotiate(["permessage-deflate; mystery"]) == nil)
        #expect(negotiate(["permessage-deflate; mystery=1"]) == nil)
        let fallback = try #require(negotiate(["permessage-deflate; mystery, permessage-deflate; server_max_window_bits=10"]))
        #expect(fallback.serverMaxWindowBits == 10)
    }

    @Test func otherExtensionsAreSkipped() throws {
        #expect(negotiate(["x-webkit-deflate-frame", "deflate-frame; max_window_bits=10"]) == nil)
        #expect(negotiate([]) == nil)
        let accepted = try #require(negotiate(["x-webkit-deflate-frame, permessage-deflate"]))
        #expect(accepted.serverMaxWindowBits == 15)
    }

    @Test(arguments: [
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10; SERVER_MAX_WINDOW_BITS=11",
    ])
    func duplicatedParameterDeclinesTheOffer(_ offer: String) {
        #expect(negotiate([offer]) == nil)
    }

    @Test(arguments: [
        "permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits=",
        "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=0", "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate; server_max_window_bits=-10", "permessage-deflate; server_max_window_bits=+10",
        "permessage-deflate; server_max_window_bits=1 0", "permessage-deflate; server_max_window_bits=0x0a",
        "permessage-deflate; client_max_window_bits=16", "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=ten", "permessage-deflate; client_max_window_bits=\"\"",
        "permessage-deflate; server_no_context_takeover=1", "permessage-deflate; client_no_context_takeover=true",
    ])
    func badValueDeclinesTheOffer(_ offer: String) {
        #expect(negotiate([offer]) == nil)
    }

    /// RFC 6455 §9.1: `name=` with nothing after is neither a bare parameter nor one with a value (a token
    /// or quoted-string), and RFC 7692 §5 has the server decline an offer with an invalid value.
    @Test(arguments: ["permessage-deflate; client_max_window_bits=", "permessage-deflate; server_no_context_takeover=",
                      "permessage-deflate; client_no_context_takeover="])
    func emptyValueDeclinesTheOffer(_ offer: String) {
        #expect(negotiate([offer]) == nil)
    }

    /// RFC 6455 §9.1: an extension parameter is a token; an empty one between two `;` (or before a `,`)
    /// is malformed and must decline the offer, never trap (this runs in the responder's task, so a trap
    /// takes the whole server down).
    @Test func emptyParameterDeclinesTheOfferWithoutTrapping() {
        #expect(PerMessageDeflate.negotiate(offers: ["permessage-deflate; ; client_max_window_bits"], requireClientNoContextTakeover: true) == nil)
        #expect(PerMessageDeflate.negotiate(offers: ["permessage-deflate; , permessage-deflate"], requireClientNoContextTakeover: true)
            == PerMessageDeflate())
    }

    // MARK: Compression and inflation (RFC 7692 §7.2)

    @Test(arguments: [0, 1, 10, 200, 5000, 70_000])
    func randomPayloadRoundTrips(_ count: Int) throws {
        var deflaters: [Int32: Deflater] = [:]
        let payload = randomBytes(count, seed: UInt64(count) &+ 7)
        #expect(try roundTrip(payload, deflaters: &deflaters) == payload)
        // The cached deflater is reset after each message: the same input compresses the same again.
        let first = PerMessageDeflate.compress(payload, windowBits: 15, using: &deflaters)
        let second = PerMessageDeflate.compress(payload, windowBits: 15, using: &deflaters)
        #expect(first == second)
        #expect(deflaters.count == 1)
    }

    @Test(arguments: [9, 10, 12, 15] as [Int32])
    func repetitivePayloadRoundTripsAndShrinks(_ windowBits: Int32) throws {
        var deflaters: [Int32: Deflater] = [:]
        let payload = Array(String(repeating: "{\"sku\":\"TEA-001\",\"available\":42}", count: 2000).utf8)
        let compressed = try #require(PerMessageDeflate.compress(payload, windowBits: windowBits, using: &deflaters))
        #expect(compressed.count < payload.count / 10)
        #expect(try roundTrip(payload, windowBits: windowBits, deflaters: &deflaters) == payload)
        #expect(deflaters.keys.sorted() == [windowBits])
    }

    /// RFC 7692 §7.2.3.6: an empty message compresses to a single 0x00 byte once the tail is dropped.
    @Test func emptyPayloadCompressesToOneByteAndRoundTrips() throws {
        var deflaters: [Int32: Deflater] = [:]
        #expect(PerMessageDeflate.compress([], windowBits: 15, using: &deflaters) == [0x00])
        #expect(try roundTrip([], deflaters: &deflaters) == [])
    }

    /// RFC 7692 §7.2.3.1: "Hello" compressed with no context takeover, from the RFC.
    @Test func rfcExampleInflates() throws {
        let inflater = try Inflater()
        var output: [UInt8] = []
        try inflater.inflate([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00, 0x00, 0xFF, 0xFF], into: &output, limit: 100)
        #expect(output == Array("Hello".utf8))
    }

    @Test func inflaterKeepsContextAcrossMessagesUntilReset() throws {
        // RFC 7692 §7.2.3.2: the second "Hello" refers back to the first through the shared window.
        let inflater = try Inflater()
        var first: [UInt8] = []
        try inflater.inflate([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00, 0x00, 0xFF, 0xFF], into: &first, limit: 100)
        var second: [UInt8] = []
        try inflater.inflate([0xF2, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF], into: &second, limit: 100)
        #expect(first == Array("Hello".utf8))
        #expect(second == Array("Hello".utf8))
    }

    @Test func inflaterRefusesOutputPastItsLimit() throws {
        var deflaters: [Int32: Deflater] = [:]
        let payload = [UInt8](repeating: 0x61, count: 100_000)
        let compressed = try #require(PerMessageDeflate.compress(payload, windowBits: 15, using: &deflaters)) + [0x00, 0x00, 0xFF, 0xFF]
        #expect(compressed.count < 1000)

        var atLimit: [UInt8] = []
        try Inflater().inflate(compressed, into: &atLimit, limit: payload.count)
        #expect(atLimit == payload)

        var output: [UInt8] = []
        let error = #expect(throws: Inflater.InflateFailure.self) {
            try Inflater().inflate(compressed, into: &output, limit: payload.count - 1)
        }
        #expect(isTooLarge(error))
        #expect(output.count <= payload.count - 1)

        var small: [UInt8] = []
        let bomb = #expect(throws: Inflater.InflateFailure.self) {
            try Inflater().inflate(compressed, into: &small, limit: 1000)
        }
        #expect(isTooLarge(bomb))
        #expect(small.count <= 1000)
    }

    @Test(arguments: [
        [0xFF, 0xFF, 0xFF, 0xFF],                     // BTYPE 11, reserved
        [0x00, 0x05, 0x00, 0x00, 0x00],               // stored block whose LEN and NLEN disagree
    ] as [[UInt8]])
    func inflaterRefusesGarbage(_ garbage: [UInt8]) throws {
        var output: [UInt8] = []
        let error = #expect(throws: Inflater.InflateFailure.self) {
            try Inflater().inflate(garbage + [0x00, 0x00, 0xFF, 0xFF], into: &output, limit: 1 << 20)
        }
        #expect(isCorrupt(error))
    }

    @Test func inflaterRefusesDataAfterTheFinalBlock() throws {
        let deflater = try Deflater(format: .raw(windowBits: 15))
        let final = try deflater.compress(Array("done".utf8), flush: Z_FINISH)
        var output: [UInt8] = []
        let error = #expect(throws: Inflater.InflateFailure.self) {
            try Inflater().inflate(final + [0x00, 0x00, 0xFF, 0xFF], into: &output, limit: 100)
        }
        #expect(isCorrupt(error))
    }
}
