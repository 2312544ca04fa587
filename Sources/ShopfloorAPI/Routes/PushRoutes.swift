import HTTPTypes
import ShopfloorCrypto
import ShopfloorDomain
import ShopfloorTransport

/// Web Push for storefronts (API.md, Messages): the application server's public key to subscribe
/// with, and subscriptions made and removed. Public, like carts: a subscription follows a cart or an
/// order only by its id or tracking token, which the storefront already holds; one made with a customer
/// token belongs to that signed-in shopper.
struct PushRoutes {
    let push: PushService
    let publicKey: P256PublicKey

    func register(on router: inout Router) {
        router.on(.get, "/v1/push/key") { _, _ in
            try JSON.response(PushKeyDTO(publicKey: Base64URL.encode(publicKey.uncompressedPoint)))
        }
        router.on(.post, "/v1/push/subscriptions") { request, context in
            let body = try request.decode(PushSubscriptionBody.self)
            let subscription = try await push.subscribe(.init(
                endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth, visitor: body.visitor,
                cartID: body.cart.map(CartID.init(rawValue:)), trackingToken: body.trackingToken, customerID: context.customer))
            return try JSON.response(PushSubscriptionDTO(subscription), status: .created)
        }
        router.on(.delete, "/v1/push/subscriptions/{id}") { _, context in
            guard try await push.unsubscribe(id: PushSubscriptionID(rawValue: try context.parameter("id"))) else {
                throw APIError.notFound(path: "/v1/push/subscriptions/\(try context.parameter("id"))")
            }
            return HTTPServerResponse(status: .noContent)
        }
    }
}

/// The body of `GET /v1/push/key`: what `PushManager.subscribe` takes as `applicationServerKey`.
private struct PushKeyDTO: Encodable {
    var publicKey: String
}

/// The body of `POST /v1/push/subscriptions`: the browser's `PushSubscription.toJSON()`, and what it follows.
private struct PushSubscriptionBody: Decodable {
    var endpoint: String
    var keys: Keys
    var visitor: String?
    var cart: String?
    var trackingToken: String?

    struct Keys: Decodable {
        var p256dh: String
        var auth: String
    }
}

/// A subscription as made; its `id` removes it.
private struct PushSubscriptionDTO: Encodable {
    var id: String
    var endpoint: String
    @Nullable var visitor: String?
    @Nullable var cart: String?
    @Nullable var orderID: String?
    var createdAt: String

    init(_ subscription: PushSubscription) {
        id = subscription.id.rawValue
        endpoint = subscription.endpoint
        visitor = subscription.visitor
        cart = subscription.cartID?.rawValue
        orderID = subscription.orderID?.rawValue
        createdAt = subscription.createdAt
    }
}
