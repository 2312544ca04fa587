import Testing
import TransportTesting
@testable import ShopfloorTransport

/// How a test client frame writes its payload length (RFC 6455 §5.2): the shortest form by default,
/// or a 16- or 64-bit field on purpose.
enum FrameLength {
    case shortest
    case sixteenBit
    case sixtyFourBit
}

/// The bytes of a client frame, masked with `mask` (`nil` leaves it unmasked, which a server must
/// refuse). `first` overrides the whole first byte, for reserved bits and opcodes.
func makeClientFrame(
    opcode: UInt8, payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0, mask: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D],
    length: FrameLength = .shortest, declaredLength: UInt64? = nil
) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    let count = declaredLength ?? UInt64(payload.count)
    switch length {
    case .shortest where count < 126:
        out.append(maskBit | UInt8(count))
    case .shortest where count <= 0xFFFF, .sixteenBit:
        out.append(maskBit | 126)
        out.append(contentsOf: [UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)])
    case .shortest, .sixtyFourBit:
        out.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(count >> UInt64(shift) & 0xFF)) }
    }
    guard let mask else { return out + payload }
    out.append(contentsOf: mask)
    for (index, byte) in payload.enumerated() { out.append(byte ^ mask[index & 3]) }
    return out
}

/// A deterministic generator (SplitMix64), so random payloads are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// One frame as the decoder handed it out, its pieces concatenated.
private struct DecodedFrame: Equatable, CustomStringConvertible {
    var opcode: WebSocketOpcode
    var fin: Bool
    var rsv1: Bool
    var payload: [UInt8]

    init(_ opcode: WebSocketOpcode, fin: Bool = true, rsv1: Bool = false, _ payload: [UInt8]) {
        self.opcode = opcode
        self.fin = fin
        self.rsv1 = rsv1
        self.payload = payload
    }

    var description: String { "\(opcode) fin=\(fin) rsv1=\(rsv1) \(payload.count) bytes" }
}

/// What the decoder produced for one delivery; `anomalies` lists broken piece rules (a control frame
/// in several pieces, an empty piece of a non-empty frame, start/end flags out of order).
private struct Outcome: Equatable, CustomStringConvertible {
    var frames: [DecodedFrame] = []
    var error: WebSocketError?
    var anomalies: [String] = []

    var description: String { "frames \(frames), error \(error.map { "\($0)" } ?? "none"), anomalies \(anomalies)" }
}

private func decode(_ parts: [[UInt8]], maxFramePayload: Int = 1 << 20, allowsCompression: Bool = false) -> Outcome {
    var decoder = WebSocketFrameDecoder(maxFramePayload: maxFramePayload, allowsCompression: allowsCompression)
    var buffer = InboundBuffer()
    var outcome = Outcome()
    var inFrame = false
    do throws(WebSocketError) {
        for part in parts {
            buffer.append(contentsOf: part)
            while let piece = try decoder.next(&buffer) {
                if piece.isFrameStart {
                    if inFrame { outcome.anomalies.append("frame start inside a frame") }
                    outcome.frames.append(DecodedFrame(piece.opcode, fin: piece.fin, rsv1: piece.rsv1, piece.payload))
                } else {
                    if !inFrame { outcome.anomalies.append("continuing piece without a frame") }
                    outcome.frames[outcome.frames.count - 1].payload += piece.payload
                }
                if piece.opcode.isControl && !(piece.isFrameStart && piece.isFrameEnd) {
                    outcome.anomalies.append("control frame in pieces")
                }
                if piece.payload.isEmpty && !(piece.isFrameStart && piece.isFrameEnd) {
                    outcome.anomalies.append("empty piece")
                }
                inFrame = !piece.isFrameEnd
            }
        }
    } catch {
        outcome.error = error
    }
    if inFrame && outcome.error == nil { outcome.anomalies.append("input ended inside a frame") }
    return outcome
}

/// Decodes `input` whole, byte by byte and split in two at every boundary (sampled for long inputs),
/// expects every delivery to agree with the whole one, and returns that.
private func decodeEveryWay(
    _ input: [UInt8], maxFramePayload: Int = 1 << 20, allowsCompression: Bool = false, edge: Int = 256, samples: Int = 64,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Outcome {
    let chunked = ChunkedInput(input, edge: edge, samples: samples)
    let reference = decode([chunked.bytes], maxFramePayload: maxFramePayload, allowsCompression: allowsCompression)
    #expect(reference.anomalies.isEmpty, "whole: \(reference.anomalies)", sourceLocation: sourceLocation)
    for delivery in chunked.deliveries.dropFirst() {
        let outcome = decode(delivery.parts, maxFramePayload: maxFramePayload, allowsCompression: allowsCompression)
        #expect(outcome == reference, "fed \(delivery): \(outcome), whole: \(reference)", sourceLocation: sourceLocation)
    }
    return reference
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct WebSocketFrameDecoderTests {
    // MARK: Valid frames

    /// RFC 6455 §5.7: "A single-frame masked text message" containing "Hello".
    @Test func rfcMaskedHelloExampleDecodes() {
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        #expect(makeClientFrame(opcode: 0x1, payload: bytes("Hello")) == frame)
        let outcome = decodeEveryWay(frame)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [DecodedFrame(.text, bytes("Hello"))])
    }

    @Test(arguments: [
        [0x00, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF], [0x01, 0x02, 0x03, 0x04], [0xA5, 0x5A, 0x00, 0xFF], [0x80, 0x00, 0x00, 0x01],
    ] as [[UInt8]])
    func maskingWithAnyKeyIsUndone(_ key: [UInt8]) {
        let payload = randomBytes(300, seed: UInt64(key[0]) << 8 | UInt64(key[3]))
        let input = makeClientFrame(opcode: 0x2, payload: payload, mask: key)
            + makeClientFrame(opcode: 0x1, payload: bytes("odd length ✓"), mask: key)
        let outcome = decodeEveryWay(input)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [DecodedFrame(.binary, payload), DecodedFrame(.text, bytes("odd length ✓"))])
    }

    @Test func fragmentedMessageWithInterleavedControlFramesDecodesInOrder() {
        let input = makeClientFrame(opcode: 0x1, payload: bytes("Hel"), fin: false, mask: [1, 2, 3, 4])
            + makeClientFrame(opcode: 0x9, payload: bytes("are you there"), mask: [9, 8, 7, 6])
            + makeClientFrame(opcode: 0x0, payload: bytes("lo, "), fin: false, mask: [0xFF, 0, 0xFF, 0])
            + makeClientFrame(opcode: 0xA, payload: [], mask: [5, 5, 5, 5])
            + makeClientFrame(opcode: 0x0, payload: bytes("world"), mask: [0x10, 0x20, 0x30, 0x40])
            + makeClientFrame(opcode: 0x8, payload: [0x03, 0xE8] + bytes("bye"), mask: [0xDE, 0xAD, 0xBE, 0xEF])
        let outcome = decodeEveryWay(input)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [
            DecodedFrame(.text, fin: false, bytes("Hel")),
            DecodedFrame(.ping, bytes("are you there")),
            DecodedFrame(.continuation, fin: false, bytes("lo, ")),
            DecodedFrame(.pong, []),
            DecodedFrame(.continuation, bytes("world")),
            DecodedFrame(.close, [0x03, 0xE8] + bytes("bye")),
        ])
    }

    @Test func emptyFramesDecodeAsEmptyPayloads() {
        let input = makeClientFrame(opcode: 0x1, payload: []) + makeClientFrame(opcode: 0x2, payload: [])
            + makeClientFrame(opcode: 0x9, payload: []) + makeClientFrame(opcode: 0x8, payload: [])
        let outcome = decodeEveryWay(input)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [DecodedFrame(.text, []), DecodedFrame(.binary, []), DecodedFrame(.ping, []), DecodedFrame(.close, [])])
    }

    @Test func controlFrameOf125BytesIsAccepted() {
        let payload = randomBytes(125, seed: 125)
        let outcome = decodeEveryWay(makeClientFrame(opcode: 0x9, payload: payload))
        #expect(outcome.error == nil)
        #expect(outcome.frames == [DecodedFrame(.ping, payload)])
    }

    /// 125 is the largest 7-bit length; 126 and 0xFFFF take the 16-bit field.
    @Test(arguments: [125, 126, 127, 1000, 0xFFFF])
    func sixteenBitLengthsDecode(_ count: Int) {
        let payload = randomBytes(count, seed: UInt64(count))
        let input = makeClientFrame(opcode: 0x2, payload: payload) + makeClientFrame(opcode: 0x1, payload: bytes("next"))
        if count >= 126 { #expect(input[1] == 0x80 | 126) }
        let outcome = decodeEveryWay(input, edge: 200, samples: 48)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [DecodedFrame(.binary, payload), DecodedFrame(.text, bytes("next"))])
    }

    @Test func sixtyFourBitLengthDecodes() {
        let payload = randomBytes(0x10000 + 17, seed: 64)
        let input = makeClientFrame(opcode: 0x2, payload: payload, mask: [0x12, 0x34, 0x56, 0x78])
            + makeClientFrame(opcode: 0x9, payload: bytes("p"))
        #expect(input[1] == 0x80 | 127)
        let outcome = decodeEveryWay(input, edge: 64, samples: 32)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [DecodedFrame(.binary, payload), DecodedFrame(.ping, bytes("p"))])
    }

    @Test func rsv1IsAcceptedOnAFirstDataFrameWhenCompressionIsNegotiated() {
        let input = makeClientFrame(opcode: 0x1, payload: [0xF2, 0x48, 0x05, 0x00], fin: false, rsv: 0x40)
            + makeClientFrame(opcode: 0x0, payload: [0x00], fin: true)
            + makeClientFrame(opcode: 0x2, payload: [0x01], rsv: 0x40)
        let outcome = decodeEveryWay(input, allowsCompression: true)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [
            DecodedFrame(.text, fin: false, rsv1: true, [0xF2, 0x48, 0x05, 0x00]),
            DecodedFrame(.continuation, [0x00]),
            DecodedFrame(.binary, rsv1: true, [0x01]),
        ])
    }

    @Test func frameOfExactlyTheLimitIsAccepted() {
        let payload = randomBytes(1000, seed: 1000)
        let outcome = decodeEveryWay(makeClientFrame(opcode: 0x2, payload: payload), maxFramePayload: 1000, edge: 100, samples: 20)
        #expect(outcome.error == nil)
        #expect(outcome.frames == [DecodedFrame(.binary, payload)])
    }

    // MARK: Refusals

    @Test func unmaskedFrameIsRefused() {
        let outcome = decodeEveryWay(makeClientFrame(opcode: 0x1, payload: bytes("Hello"), mask: nil))
        #expect(outcome.frames.isEmpty)
        #expect(outcome.error == .protocolError("client frames must be masked"))
        #expect(outcome.error?.closeCode == .protocolError)
    }

    @Test func unmaskedFrameAfterAGoodOneIsRefusedAfterIt() {
        let outcome = decodeEveryWay(
            makeClientFrame(opcode: 0x1, payload: bytes("ok")) + makeClientFrame(opcode: 0x1, payload: bytes("bad"), mask: nil))
        #expect(outcome.frames == [DecodedFrame(.text, bytes("ok"))])
        #expect(outcome.error == .protocolError("client frames must be masked"))
    }

    @Test(arguments: [0x20, 0x10, 0x30, 0x60, 0x70] as [UInt8])
    func rsv2OrRsv3IsRefusedEvenWithCompression(_ rsv: UInt8) {
        for allowsCompression in [false, true] {
            let outcome = decodeEveryWay(makeClientFrame(opcode: 0x1, payload: bytes("x"), rsv: rsv), allowsCompression: allowsCompression)
            #expect(outcome.frames.isEmpty)
            #expect(outcome.error == .protocolError("reserved bits set"))
        }
    }

    @Test func rsv1WithoutCompressionIsRefused() {
        for opcode: UInt8 in [0x1, 0x2] {
            let outcome = decodeEveryWay(makeClientFrame(opcode: opcode, payload: bytes("x"), rsv: 0x40), allowsCompression: false)
            #expect(outcome.error == .protocolError("RSV1 set without compression on this frame"))
        }
    }

    /// RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only, and never a control frame.
    @Test(arguments: [0x0, 0x8, 0x9, 0xA] as [UInt8])
    func rsv1OnContinuationOrControlFrameIsRefusedWithCompression(_ opcode: UInt8) {
        var input: [UInt8] = []
        if opcode == 0x0 { input += makeClientFrame(opcode: 0x1, payload: [0x00], fin: false, rsv: 0x40) }
        input += makeClientFrame(opcode: opcode, payload: [0x03, 0xE8], rsv: 0x40)
        let outcome = decodeEveryWay(input, allowsCompression: true)
        #expect(outcome.error == .protocolError("RSV1 set without compression on this frame"))
    }

    @Test(arguments: [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8])
    func reservedOpcodeIsRefused(_ opcode: UInt8) {
        let outcome = decodeEveryWay(makeClientFrame(opcode: opcode, payload: bytes("x")))
        #expect(outcome.frames.isEmpty)
        #expect(outcome.error == .protocolError("reserved opcode"))
    }

    @Test(arguments: [0x8, 0x9, 0xA] as [UInt8])
    func fragmentedControlFrameIsRefused(_ opcode: UInt8) {
        let outcome = decodeEveryWay(makeClientFrame(opcode: opcode, payload: [0x03, 0xE8], fin: false))
        #expect(outcome.frames.isEmpty)
        #expect(outcome.error == .protocolError("fragmented control frame"))
    }

    @Test(arguments: [0x8, 0x9, 0xA] as [UInt8])
    func controlFrameOver125BytesIsRefused(_ opcode: UInt8) {
        let outcome = decodeEveryWay(makeClientFrame(opcode: opcode, payload: randomBytes(126, seed: 126)))
        #expect(outcome.frames.isEmpty)
        #expect(outcome.error == .protocolError("control frame over 125 bytes"))
        // The 16-bit form for a small length is still over 125 in the 7-bit field.
        let sixteen = decodeEveryWay(makeClientFrame(opcode: opcode, payload: bytes("x"), length: .sixteenBit))
        #expect(sixteen.error == .protocolError("control frame over 125 bytes"))
    }

    @Test func lengthWithTheTopBitSetIsRefused() {
        let header = makeClientFrame(opcode: 0x2, payload: [], length: .sixtyFourBit, declaredLength: 1 << 63)
        let outcome = decodeEveryWay(header + [1, 2, 3, 4, 5])
        #expect(outcome.frames.isEmpty)
        #expect(outcome.error == .protocolError("payload length over 63 bits"))
        let allOnes = decodeEveryWay(makeClientFrame(opcode: 0x2, payload: [], length: .sixtyFourBit, declaredLength: .max))
        #expect(allOnes.error == .protocolError("payload length over 63 bits"))
    }

    @Test func frameOverTheLimitIsRefusedFromItsHeader() {
        let cases: [(FrameLength, UInt64)] = [(.shortest, 101), (.sixteenBit, 101), (.sixteenBit, 0xFFFF), (.sixtyFourBit, 101), (.sixtyFourBit, 1 << 62)]
        for (length, declared) in cases {
            let frame = makeClientFrame(opcode: 0x2, payload: [], length: length, declaredLength: declared)
            // Only the length field has arrived: neither the masking key nor any payload byte.
            let headerOnly = Array(frame.dropLast(4))
            #expect(decode([headerOnly], maxFramePayload: 100).error == .messageTooBig, "\(length) \(declared)")
            #expect(decode(headerOnly.map { [$0] }, maxFramePayload: 100).error == .messageTooBig, "\(length) \(declared)")
            #expect(decodeEveryWay(frame, maxFramePayload: 100).error == .messageTooBig)
        }
        #expect(WebSocketError.messageTooBig.closeCode == .messageTooBig)
    }

    @Test func incompleteFrameYieldsOnlyWhatHasArrived() throws {
        let frame = makeClientFrame(opcode: 0x2, payload: bytes("abcdef"))
        var decoder = WebSocketFrameDecoder(maxFramePayload: 100, allowsCompression: false)
        var buffer = InboundBuffer()
        buffer.append(contentsOf: frame[..<5])
        let headerOnly = try decoder.next(&buffer)
        #expect(headerOnly == nil)
        buffer.append(contentsOf: frame[5..<9])
        let first = try #require(try decoder.next(&buffer))
        #expect(first.payload == bytes("abc"))
        #expect(first.isFrameStart && !first.isFrameEnd)
        let nothingMore = try decoder.next(&buffer)
        #expect(nothingMore == nil)
        buffer.append(contentsOf: frame[9...])
        let second = try #require(try decoder.next(&buffer))
        #expect(second.payload == bytes("def"))
        #expect(!second.isFrameStart && second.isFrameEnd)
        let afterFrame = try decoder.next(&buffer)
        #expect(afterFrame == nil)
    }
}
