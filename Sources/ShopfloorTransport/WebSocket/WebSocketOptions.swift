/// How one WebSocket endpoint treats its connections; chosen by the application per route.
public struct WebSocketOptions: Sendable {
    /// Largest message a client may send, after reassembly and decompression; larger closes with 1009.
    public var maxMessageSize: Int
    /// Offer to accept permessage-deflate when the client proposes it.
    public var compression: Bool
    /// Ask clients not to keep compression context between messages, so an idle connection holds
    /// no inflate window (32 KiB) on the server.
    public var requireClientNoContextTakeover: Bool
    /// Ping a connection after this long without hearing from it; close it when another interval passes in silence.
    public var pingInterval: Duration
    /// Messages queued unsent beyond which a peer counts as too far behind and is closed with 1008.
    public var maxQueuedMessages: Int
    /// Bytes queued unsent beyond which the same happens.
    public var maxQueuedBytes: Int

    public init(maxMessageSize: Int = 64 * 1024, compression: Bool = true, requireClientNoContextTakeover: Bool = true,
                pingInterval: Duration = .seconds(30), maxQueuedMessages: Int = 4096, maxQueuedBytes: Int = 4 * 1024 * 1024) {
        self.maxMessageSize = maxMessageSize
        self.compression = compression
        self.requireClientNoContextTakeover = requireClientNoContextTakeover
        self.pingInterval = pingInterval
        self.maxQueuedMessages = maxQueuedMessages
        self.maxQueuedBytes = maxQueuedBytes
    }
}
