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
    var visitor: String?
    var cart: String?
    var conversation: String?
    var from: ConversationMessage.Sender?
    var text: String?
    var kind: Discount.Kind?
    var value: OfferValue?
    var expiresAt: String?
    var at: String?

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

    static func welcome(visitor: String) -> OutboundWebSocketMessage {
        EventChannelReply(op: "welcome", visitor: visitor).message
    }

    static func offerAccepted(code: String, cart: String) -> OutboundWebSocketMessage {
        EventChannelReply(op: "offer_accepted", code: code, cart: cart).message
    }

    /// The shop's message or offer to a live shopper, or a shopper's own message echoed to their tabs.
    static func delivery(_ delivery: ShopperDelivery) -> OutboundWebSocketMessage {
        switch delivery {
        case .message(let conversation, let from, let text, let at):
            EventChannelReply(op: "message", conversation: conversation.rawValue, from: from, text: text, at: at).message
        case .offer(let conversation, let offer):
            EventChannelReply(op: "offer", code: offer.code, conversation: conversation.rawValue, kind: offer.kind, value: OfferValue(offer),
                              expiresAt: offer.expiresAt).message
        }
    }

    /// The live stats as the `stats` topic sends them: like an event, without a `seq` (they are a
    /// current value, not part of the log).
    static func stats(_ snapshot: LiveStats.Snapshot, at: String) -> OutboundWebSocketMessage {
        let body = StatsMessage(at: at, data: snapshot, topic: "stats", type: "stats.live")
        return OutboundWebSocketMessage(.text((try? JSONCoding.encode(body, capacity: 1024)) ?? Array(#"{"op":"error"}"#.utf8)))
    }

    static func error(_ error: EventChannelError) -> OutboundWebSocketMessage {
        var reply = EventChannelReply(op: "error", code: error.code, detail: error.detail)
        if case .forbidden(let topics, _) = error { reply.topics = topics }
        return reply.message
    }

    private var message: OutboundWebSocketMessage {
        // Plain strings and numbers: encoding cannot fail.
        OutboundWebSocketMessage(.text((try? JSONCoding.encode(self)) ?? Array(#"{"op":"error"}"#.utf8)))
    }
}

/// A `stats` topic message.
private struct StatsMessage: Encodable {
    var at: String
    var data: LiveStats.Snapshot
    var topic: String
    var type: String
}
