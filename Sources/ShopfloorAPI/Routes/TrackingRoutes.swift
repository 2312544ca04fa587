import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Tracked links of flow messages (API.md, Automation, engagement), public as the links in a mailbox
/// are: `GET /v1/m/{message}/open` answers the 1×1 pixel and records the first open;
/// `GET /v1/m/{message}/click?url=…&sig=…` records the first click and redirects to `url`, only if
/// the server signed that target for that message (else 404: no open redirect).
struct TrackingRoutes {
    let messages: MessageService

    /// A transparent 1×1 GIF.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func register(on router: inout Router) {
        router.on(.get, "/v1/m/{id}/open") { request, context in
            let id = MessageID(rawValue: try context.parameter("id"))
            // A mail client shows the pixel whatever happens; only a signed one is recorded.
            if let links = messages.links, let signature = request.queryParameters["sig"], links.verifies(id, target: "", signature: signature) {
                try await messages.engaged(id, .opened)
            }
            return HTTPServerResponse(status: .ok, headerFields: [.contentType: "image/gif", .cacheControl: "no-store"], body: .bytes(Self.pixel))
        }
        router.on(.get, "/v1/m/{id}/click") { request, context in
            let id = MessageID(rawValue: try context.parameter("id"))
            let query = request.queryParameters
            guard let links = messages.links, let target = query["url"], let signature = query["sig"],
                  links.verifies(id, target: target, signature: signature), try await messages.engaged(id, .clicked) else {
                throw APIError.notFound(path: "/v1/m/\(id.rawValue)/click")
            }
            return HTTPServerResponse(status: .found, headerFields: [.location: target, .cacheControl: "no-store"])
        }
    }
}
