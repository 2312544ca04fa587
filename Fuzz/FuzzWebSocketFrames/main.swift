import FuzzSupport
@testable import ShopfloorTransport

/// One input: the bytes as a client's frames on a connection that negotiated
/// permessage-deflate, decoded piece by piece; each message is put together as the connection does,
/// inflated when compressed (with the message size limit) and its text checked as UTF-8.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let maxMessage = 256 * 1024
    var decoder = WebSocketFrameDecoder(maxFramePayload: maxMessage, allowsCompression: true)
    var inbound = InboundBuffer()
    inbound.append(contentsOf: UnsafeBufferPointer(start: data, count: size))
    guard let inflater = try? Inflater() else { return 0 }
    var message: [UInt8] = []
    var compressed = false
    var opcode = WebSocketOpcode.text
    while true {
        let piece: WebSocketFramePiece
        do {
            guard let next = try decoder.next(&inbound) else { return 0 }
            piece = next
        } catch {
            return 0
        }
        if piece.opcode.isControl { continue }
        if piece.isFrameStart && piece.opcode != .continuation {
            message.removeAll()
            compressed = piece.rsv1
            opcode = piece.opcode
        }
        message += piece.payload
        guard message.count <= maxMessage else { return 0 }
        guard piece.fin && piece.isFrameEnd else { continue }
        var payload = message
        if compressed {
            var output: [UInt8] = []
            do {
                try inflater.inflate(message + [0x00, 0x00, 0xFF, 0xFF], into: &output, limit: maxMessage)
            } catch {
                return 0
            }
            payload = output
        }
        if opcode == .text { _ = UTF8Validator.isValid(payload) }
    }
}

fuzz { data, size in fuzzWebSocketFrames(data, size) }
