import Synchronization

/// A complete message received from a peer. Text is already checked to be UTF-8.
public enum WebSocketMessage: Sendable, Equatable {
    case text([UInt8])
    case binary([UInt8])
}

/// A message encoded once for any number of connections: the frame bytes, and the compressed frame
/// for each window size a connection negotiated, made on first use and then shared.
///
/// This is what makes a broadcast cheap: ten thousand subscribers of one event cost one JSON
/// encoding, one frame header and at most one deflate.
public final class OutboundWebSocketMessage: Sendable {
    let opcode: WebSocketOpcode
    let payload: [UInt8]
    /// The uncompressed frame.
    let frame: [UInt8]
    private let compressedFrames = Mutex<[Int32: [UInt8]]>([:])

    public init(_ message: WebSocketMessage) {
        switch message {
        case .text(let bytes): (opcode, payload) = (.text, bytes)
        case .binary(let bytes): (opcode, payload) = (.binary, bytes)
        }
        frame = WebSocketFrameEncoder.encode(opcode, payload: payload)
    }

    public convenience init(text: String) {
        self.init(.text(Array(text.utf8)))
    }

    /// The frame to send on a connection with these compression settings (called on its loop).
    func frame(for deflate: PerMessageDeflate?, deflaters: inout [Int32: Deflater]) -> [UInt8] {
        // Every message is compressed once the peer asked for it, small ones too: RFC 7692 lets a
        // sender choose per message, but some clients mishandle uncompressed messages then.
        guard let deflate else { return frame }
        let bits = deflate.serverMaxWindowBits
        if let cached = compressedFrames.withLock({ $0[bits] }) { return cached }
        guard let compressed = PerMessageDeflate.compress(payload, windowBits: bits, using: &deflaters) else { return frame }
        let encoded = WebSocketFrameEncoder.encode(opcode, payload: compressed, rsv1: true)
        compressedFrames.withLock { $0[bits] = encoded }
        return encoded
    }
}
