/// Why a WebSocket connection is failed (RFC 6455 §7.1.7), with the close code sent to the peer.
enum WebSocketError: Error, Equatable {
    /// A frame or message broke RFC 6455 or RFC 7692 (1002).
    case protocolError(String)
    /// A text message or close reason that is not UTF-8, or compressed data that does not inflate (1007).
    case invalidPayload(String)
    /// A frame or message over the size limit (1009).
    case messageTooBig

    var closeCode: WebSocketCloseCode {
        switch self {
        case .protocolError: .protocolError
        case .invalidPayload: .invalidPayload
        case .messageTooBig: .messageTooBig
        }
    }

    var reason: String {
        switch self {
        case .protocolError(let reason), .invalidPayload(let reason): reason
        case .messageTooBig: "message too big"
        }
    }
}
