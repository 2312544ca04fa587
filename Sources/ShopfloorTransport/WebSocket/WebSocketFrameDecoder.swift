/// Decodes client frames (RFC 6455 §5.2) incrementally from a connection's inbound bytes.
///
/// Enforces what a server must: every client frame masked, reserved bits clear unless an extension
/// gives them meaning, known opcodes, control frames unfragmented and at most 125 bytes, lengths in
/// 63 bits, and a frame size limit checked from the header before any payload is buffered.
struct WebSocketFrameDecoder {
    private struct Header {
        var opcode: WebSocketOpcode
        var fin: Bool
        var rsv1: Bool
        var mask: (UInt8, UInt8, UInt8, UInt8)
        var remaining: Int
        var maskOffset = 0
        var started = false
    }

    /// Largest payload of one frame; a larger header is refused with 1009 at once.
    let maxFramePayload: Int
    /// Whether RSV1 may be set (permessage-deflate was negotiated).
    let allowsCompression: Bool
    private var current: Header?

    init(maxFramePayload: Int, allowsCompression: Bool) {
        self.maxFramePayload = maxFramePayload
        self.allowsCompression = allowsCompression
    }

    /// The next piece of a frame, or `nil` until more bytes arrive.
    mutating func next(_ buffer: inout InboundBuffer) throws(WebSocketError) -> WebSocketFramePiece? {
        if current == nil {
            guard let header = try readHeader(&buffer) else { return nil }
            current = header
        }
        guard var header = current else { return nil }
        // Control frames are delivered whole; data frames as their bytes come, but never as an empty
        // piece unless the frame itself is empty.
        let available = min(header.remaining, buffer.readableCount)
        if header.opcode.isControl && available < header.remaining { return nil }
        if available == 0 && header.remaining > 0 { return nil }
        var payload = [UInt8](repeating: 0, count: available)
        buffer.bytes.withUnsafeBufferPointer { source in
            let start = buffer.readerIndex
            let mask = [header.mask.0, header.mask.1, header.mask.2, header.mask.3]
            var offset = header.maskOffset
            for index in 0..<available {
                payload[index] = source[start + index] ^ mask[offset & 3]
                offset &+= 1
            }
        }
        buffer.moveReaderIndex(by: available)
        header.remaining -= available
        header.maskOffset = (header.maskOffset + available) & 3
        let piece = WebSocketFramePiece(
            opcode: header.opcode, fin: header.fin, rsv1: header.rsv1, payload: payload,
            isFrameStart: !header.started, isFrameEnd: header.remaining == 0)
        header.started = true
        current = header.remaining == 0 ? nil : header
        return piece
    }

    private func readHeader(_ buffer: inout InboundBuffer) throws(WebSocketError) -> Header? {
        let readable = buffer.readableCount
        guard readable >= 2 else { return nil }
        let bytes = buffer.bytes
        let start = buffer.readerIndex
        let first = bytes[start]
        let second = bytes[start + 1]
        guard first & 0x30 == 0 else { throw .protocolError("reserved bits set") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .protocolError("reserved opcode") }
        let fin = first & 0x80 != 0
        let rsv1 = first & 0x40 != 0
        if rsv1 && (!allowsCompression || opcode.isControl || opcode == .continuation) {
            throw .protocolError("RSV1 set without compression on this frame")
        }
        guard second & 0x80 != 0 else { throw .protocolError("client frames must be masked") }
        let shortLength = Int(second & 0x7F)
        if opcode.isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            guard shortLength <= 125 else { throw .protocolError("control frame over 125 bytes") }
        }
        var headerLength = 2
        var length = shortLength
        if shortLength == 126 {
            guard readable >= 4 else { return nil }
            length = Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
            headerLength = 4
        } else if shortLength == 127 {
            guard readable >= 10 else { return nil }
            var value: UInt64 = 0
            for index in 2..<10 { value = value << 8 | UInt64(bytes[start + index]) }
            guard value >> 63 == 0 else { throw .protocolError("payload length over 63 bits") }
            guard value <= UInt64(maxFramePayload) else { throw .messageTooBig }
            length = Int(value)
            headerLength = 10
        }
        guard length <= maxFramePayload else { throw .messageTooBig }
        guard readable >= headerLength + 4 else { return nil }
        let mask = (bytes[start + headerLength], bytes[start + headerLength + 1], bytes[start + headerLength + 2], bytes[start + headerLength + 3])
        buffer.moveReaderIndex(by: headerLength + 4)
        return Header(opcode: opcode, fin: fin, rsv1: rsv1, mask: mask, remaining: length)
    }
}
