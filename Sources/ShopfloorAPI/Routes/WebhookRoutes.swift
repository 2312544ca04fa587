import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// Integrator webhooks for admins (API.md, Integrator webhooks): endpoints made, listed, changed,
/// removed and given a new secret, and each endpoint's delivery log, one delivery with its attempts,
/// and replay.
struct WebhookRoutes {
    let webhooks: WebhookService

    func register(on router: inout Router) {
        router.on(.post, "/v1/webhooks") { request, context in
            try context.require(.admin)
            let body = try request.decode(WebhookEndpointBody.self)
            let (endpoint, secret) = try await webhooks.create(
                WebhookService.Draft(url: body.url, events: body.events, description: body.description, enabled: body.enabled))
            return try JSON.response(WebhookEndpointDTO(endpoint, secret: secret), status: .created)
        }
        router.on(.get, "/v1/webhooks") { _, context in
            try context.require(.admin)
            return try JSON.response(EndpointList(items: try webhooks.endpoints().map { WebhookEndpointDTO($0) }))
        }
        router.on(.get, "/v1/webhooks/{id}") { _, context in
            try context.require(.admin)
            return try JSON.response(WebhookEndpointDTO(try webhooks.endpoint(WebhookEndpointID(rawValue: try context.parameter("id")))))
        }
        router.on(.patch, "/v1/webhooks/{id}") { request, context in
            try context.require(.admin)
            let (body, document) = try request.decodeWithDocument(WebhookEndpointBody.self)
            // A `description` of null clears it; an absent one leaves it.
            var description: String?? = body.description.map { .some($0) }
            if document.hasNullMember("description") { description = .some(nil) }
            let endpoint = try await webhooks.update(
                WebhookEndpointID(rawValue: try context.parameter("id")),
                WebhookService.Draft(url: body.url, events: body.events, description: description, enabled: body.enabled))
            return try JSON.response(WebhookEndpointDTO(endpoint))
        }
        router.on(.delete, "/v1/webhooks/{id}") { _, context in
            try context.require(.admin)
            try await webhooks.delete(WebhookEndpointID(rawValue: try context.parameter("id")))
            return HTTPServerResponse(status: .noContent)
        }
        router.on(.post, "/v1/webhooks/{id}/rotate-secret") { _, context in
            try context.require(.admin)
            let (endpoint, secret) = try await webhooks.rotateSecret(WebhookEndpointID(rawValue: try context.parameter("id")))
            return try JSON.response(WebhookEndpointDTO(endpoint, secret: secret))
        }
        router.on(.get, "/v1/webhooks/{id}/deliveries") { request, context in
            try context.require(.admin)
            let query = request.queryParameters
            var status: WebhookDelivery.Status?
            if let raw = query["status"] {
                guard let parsed = WebhookDelivery.Status(rawValue: raw) else {
                    throw APIError.invalidRequest(
                        detail: "status must be one of \(WebhookDelivery.Status.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                status = parsed
            }
            var before: Int64?
            if let cursor = query["cursor"] {
                guard cursor.utf8.count <= 18, let position = Int64(cursor), position > 0 else { throw APIError.invalidRequest(detail: "cursor is not valid.") }
                before = position
            }
            let page = try webhooks.deliveries(of: WebhookEndpointID(rawValue: try context.parameter("id")), status: status,
                                               limit: try request.limit(), before: before)
            return try JSON.response(Page(items: page.items.map(WebhookDeliveryDTO.init), nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/webhooks/{id}/deliveries/{delivery}") { _, context in
            try context.require(.admin)
            let (delivery, attempts) = try webhooks.delivery(
                WebhookDeliveryID(rawValue: try context.parameter("delivery")), of: WebhookEndpointID(rawValue: try context.parameter("id")))
            return try JSON.response(WebhookDeliveryDetailDTO(
                delivery: WebhookDeliveryDTO(delivery), payload: try JSONParser.parse(Array(delivery.payload.utf8)),
                deliveryAttempts: attempts.map(WebhookDeliveryDetailDTO.Attempt.init)))
        }
        router.on(.post, "/v1/webhooks/{id}/deliveries/{delivery}/replay") { _, context in
            try context.require(.admin)
            let delivery = try await webhooks.replay(
                WebhookDeliveryID(rawValue: try context.parameter("delivery")), of: WebhookEndpointID(rawValue: try context.parameter("id")))
            return try JSON.response(WebhookDeliveryDTO(delivery))
        }
    }
}

/// The body of `GET /v1/webhooks`.
private struct EndpointList: Encodable {
    var items: [WebhookEndpointDTO]
}
