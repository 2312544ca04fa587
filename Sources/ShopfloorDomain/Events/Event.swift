/// One entry of the durable event log: what changed, on which topic, in log order.
///
/// `seq` is one increasing sequence over the whole log, so a client that remembers the last `seq` it
/// saw can ask for everything after it and miss nothing.
public struct Event: Sendable, Equatable {
    public let seq: Int64
    public let type: String
    public let topic: String
    public let at: String
    /// The payload as JSON text, encoded once when appended.
    public let data: String

    public init(seq: Int64, type: String, topic: String, at: String, data: String) {
        self.seq = seq
        self.type = type
        self.topic = topic
        self.at = at
        self.data = data
    }

    /// Whether a subscription to `topic` covers this event: the exact topic, or its family
    /// (`stock` covers `stock:SKU-1`, `products` covers `product:prod_…`).
    public func matches(_ subscription: String) -> Bool {
        if topic == subscription { return true }
        guard let colon = topic.firstIndex(of: ":") else { return false }
        return Event.family(of: topic[..<colon]) == subscription
    }

    /// The family topic that also covers this event's topic (`stock` for `stock:SKU-1`), if any.
    public var family: String? {
        topic.firstIndex(of: ":").map { Event.family(of: topic[..<$0]) }
    }

    /// The family topic of a kind of specific topic.
    static func family(of kind: Substring) -> String {
        switch kind {
        case "stock": "stock"
        case "product": "products"
        case "draft": "drafts"
        case "cart": "carts"
        case "order": "orders"
        case "conversation": "conversations"
        default: String(kind)
        }
    }
}
