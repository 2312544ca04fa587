import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// `GET /v1/events/ws`: the live event channel over WebSocket (API.md, Events).
struct EventStreamRoutes {
    let hub: EventHub
    let keys: APIKeyService
    let shoppers: ShopperServices
    let options: WebSocketOptions

    func register(on router: inout Router) {
        router.on(.get, "/v1/events/ws") { [hub, keys, shoppers, options] request, _ in
            try WebSocketHandshake.upgrade(request, options: options) { socket in
                EventChannel(socket: socket, hub: hub, keys: keys, shoppers: shoppers)
            }
        }
    }
}
