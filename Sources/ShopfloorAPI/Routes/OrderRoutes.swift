import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Orders for admins and tills, the public tracking view by token, the till's PIN hand-over and
/// the payment processor's webhook. A till sees and acts on the orders ``OrderVisibility`` gives it;
/// any other order is 404 to it.
struct OrderRoutes {
    let orders: OrderService
    let pricing: PricingService
    let access: OrderAccess
    let handover: POSHandover
    let webhook: PaymentWebhook?

    func register(on router: inout Router) {
        router.on(.get, "/v1/orders") { request, context in
            let principal = try context.require(.admin, .pos)
            let query = request.queryParameters
            var filter = OrderService.Filter()
            filter.visibility = try access.visibility(for: principal)
            if let raw = query["status"] {
                guard let status = OrderStatus(rawValue: raw) else {
                    throw APIError.invalidRequest(detail: "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                filter.status = status
            }
            if let raw = query["channel"] {
                guard let channel = Cart.Channel(rawValue: raw) else { throw APIError.invalidRequest(detail: "channel must be online or pos.") }
                filter.channel = channel
            }
            for name in ["created_after", "created_before"] {
                if let raw = query[name], Timestamp.date(raw) == nil { throw APIError.invalidRequest(detail: "\(name) must be an RFC 3339 time.") }
            }
            filter.customerID = query["customer_id"]
            filter.email = query["email"]
            filter.location = query["location"]
            filter.createdAfter = query["created_after"]
            filter.createdBefore = query["created_before"]
            var before: Int64?
            if let cursor = query["cursor"] {
                guard cursor.utf8.count <= 18, let seq = Int64(cursor), seq > 0 else { throw APIError.invalidRequest(detail: "cursor is not valid.") }
                before = seq
            }
            return try JSON.response(try orders.orders(filter, limit: try request.limit(), before: before))
        }
        router.on(.get, "/v1/orders/{id}") { _, context in
            return try JSON.response(try visibleOrder(context))
        }
        router.on(.get, "/v1/orders/{id}/receipt") { request, context in
            let order = try visibleOrder(context)
            let receipt = ReceiptDTO(order, pricesIncludeTax: pricing.rules.settings.pricesIncludeTax)
            let wantsHTML = request.queryParameters["format"] == "html"
                || (request.queryParameters["format"] == nil && (request.head.headerFields[.accept] ?? "").contains("text/html"))
            // Negotiated by Accept: a cache must keep the two apart.
            if wantsHTML {
                return HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/html; charset=utf-8", .vary: "Accept"],
                                          body: .bytes(Array(receipt.html.utf8)))
            }
            var response = try JSON.response(receipt)
            response.headerFields[.vary] = "Accept"
            return response
        }
        router.on(.post, "/v1/orders/{id}/transitions") { request, context in
            let principal = try context.require(.admin, .pos)
            let input = try request.decode(TransitionDTO.self)
            let order = try await orders.transition(
                try visibleOrder(context).id, to: input.to, actor: principal.actor, note: input.note,
                trackingNumber: input.trackingNumber)
            return try JSON.response(order)
        }
        router.on(.post, "/v1/pos/handover") { request, context in
            let principal = try context.require(.pos)
            guard let location = principal.locationID else { throw APIError.forbidden(required: [.pos]) }
            let input = try request.decode(HandoverDTO.self)
            let order = try await handover.handOver(pin: input.pin, cart: input.cartID.map(CartID.init(rawValue:)), location: location,
                                                    actor: principal.actor, caller: principal.keyID.rawValue)
            return try JSON.response(order)
        }
        router.on(.post, "/v1/payments/webhook") { request, _ in
            guard let webhook else { throw APIError.missing(detail: "Webhook payments are not configured (SHOPFLOOR_WEBHOOK_SECRET).") }
            let order = try await webhook.receive(body: request.body, signature: request.head.headerFields[HTTPField.Name("Shopfloor-Signature")!])
            return try JSON.response(WebhookReceipt(received: true, orderID: order.id.rawValue, status: order.status))
        }
        router.on(.get, "/v1/track/{token}") { _, context in
            let token = try context.parameter("token")
            guard let tracking = try orders.tracking(token) else { throw CheckoutError.notFound("order with that tracking token") }
            return try JSON.response(tracking)
        }
    }

    /// The order of the path's `id`, for an admin or a till that may see it; 404 otherwise.
    private func visibleOrder(_ context: RequestContext) throws -> Order {
        let principal = try context.require(.admin, .pos)
        let id = OrderID(rawValue: try context.parameter("id"))
        guard let order = try orders.order(id), try access.visibility(for: principal).allows(order) else { throw CheckoutError.notFound("order \(id)") }
        return order
    }
}
