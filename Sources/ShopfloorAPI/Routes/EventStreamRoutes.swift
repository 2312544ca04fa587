import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// `GET /v1/events/ws`: the live event channel over WebSocket (API.md, Events).
///
/// A staff session's cookie at the upgrade authenticates the connection as `{"op":"auth"}` would,
/// when the page asking is of this server's own origin: a browser sends the cookie to a WebSocket
/// whoever opened it, so the `Origin` is what tells the shop's pages from another site's.
struct EventStreamRoutes {
    let hub: EventHub
    let keys: APIKeyService
    let sessions: StaffSessionService
    let shoppers: ShopperServices
    let options: WebSocketOptions
    let channels: EventChannels
    let access: OrderAccess

    func register(on router: inout Router) {
        router.on(.get, "/v1/events/ws") { [hub, keys, sessions, shoppers, options, channels, access] request, context in
            let session = context.sessionToken.flatMap { Self.isSameOrigin(request) ? $0 : nil }
            return try WebSocketHandshake.upgrade(request, options: options) { socket in
                let channel = EventChannel(socket: socket, hub: hub, keys: keys, sessions: sessions, shoppers: shoppers, access: access, session: session,
                                           registry: channels)
                channels.add(channel)
                return channel
            }
        }
    }

    /// Whether the upgrade's `Origin` is this server (its `Host`, on the request's scheme).
    static func isSameOrigin(_ request: HTTPServerRequest) -> Bool {
        guard let origin = request.head.headerFields[.origin], let host = request.head.authority else {
            return false
        }
        return origin == (request.isSecure ? "https://" : "http://") + host
    }
}
