import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// The channel's own messages to a client, beside the events themselves: `{"op": …}` with the fields
/// of that op (absent fields are left out).
struct EventChannelReply: Encodable {
    var op: String
    var topics: [String]?
    var seq: Int64?
    var role: String?
    var code: String?
    var detail: String?

    static func subscribed(topics: [String], seq: Int64) -> OutboundWebSocketMessage {
        EventChannelReply(op: "subscribed", topics: topics, seq: seq).message
    }

    static func unsubscribed(topics: [String]) -> OutboundWebSocketMessage {
        EventChannelReply(op: "unsubscribed", topics: topics).message
    }

    static func authenticated(role: Role) -> OutboundWebSocketMessage {
        EventChannelReply(op: "authenticated", role: role.rawValue).message
    }

    static let pong = EventChannelReply(op: "pong").message

    static func error(_ error: EventChannelError) -> OutboundWebSocketMessage {
        var reply = EventChannelReply(op: "error", code: error.code, detail: error.detail)
        if case .forbidden(let topics) = error { reply.topics = topics }
        return reply.message
    }

    private var message: OutboundWebSocketMessage {
        // Plain strings and numbers: encoding cannot fail.
        OutboundWebSocketMessage(.text((try? JSONCoding.encode(self)) ?? Array(#"{"op":"error"}"#.utf8)))
    }
}
