/// The frame opcodes of RFC 6455 §5.2; the others are reserved and fail the connection.
enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (close, ping, pong) may interleave with a fragmented message.
    var isControl: Bool { rawValue & 0x8 != 0 }
}

/// A piece of one frame as the decoder hands it out: data frames arrive in pieces as their bytes do,
/// so a text message can be checked and refused before its frame has fully arrived; control frames
/// (at most 125 bytes) always come whole.
struct WebSocketFramePiece {
    var opcode: WebSocketOpcode
    var fin: Bool
    /// RSV1: the message is compressed (permessage-deflate, RFC 7692 §6); set on its first frame only.
    var rsv1: Bool
    /// The unmasked payload bytes of this piece.
    var payload: [UInt8]
    /// Whether this piece starts its frame (the header fields above are read from it).
    var isFrameStart: Bool
    /// Whether this piece ends its frame.
    var isFrameEnd: Bool
}

/// Serialises server frames (unmasked, RFC 6455 §5.1).
enum WebSocketFrameEncoder {
    static func encode(_ opcode: WebSocketOpcode, payload: some Collection<UInt8>, fin: Bool = true, rsv1: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 10)
        out.append((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode.rawValue)
        switch payload.count {
        case ..<126:
            out.append(UInt8(payload.count))
        case ...0xFFFF:
            out.append(126)
            out.append(UInt8(payload.count >> 8))
            out.append(UInt8(payload.count & 0xFF))
        default:
            out.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF)) }
        }
        out.append(contentsOf: payload)
        return out
    }

    /// A close frame with `code` and a reason cut to fit the 125-byte control payload on a UTF-8 boundary.
    static func close(_ code: WebSocketCloseCode, reason: String) -> [UInt8] {
        var payload = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        var reasonBytes = Array(reason.utf8.prefix(123))
        while !UTF8Validator.isValid(reasonBytes) { reasonBytes.removeLast() }
        payload.append(contentsOf: reasonBytes)
        return encode(.close, payload: payload)
    }
}
