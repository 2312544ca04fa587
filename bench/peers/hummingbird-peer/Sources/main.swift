// Usage: hummingbird-peer [PORT]   (else $PORT, else 8080); binds 127.0.0.1 only.
import Hummingbird

struct Health: ResponseEncodable {
    let status: String
}

let env = Environment()
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? env.get("PORT", as: Int.self) ?? 8080

let router = Router()
// Encoded by Hummingbird's default JSONEncoder as application/json, like Shopfloor's /health.
router.get("health") { _, _ -> Health in
    Health(status: "ok")
}
// Streams the body back with the request's content type, like Shopfloor's POST /v1/echo.
router.post("v1/echo") { request, _ -> Response in
    let contentType = request.headers[.contentType] ?? "application/octet-stream"
    return Response(status: .ok, headers: [.contentType: contentType], body: .init(asyncSequence: request.body))
}

var app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hummingbird")
)
app.logger.logLevel = .warning
// Stops gracefully on SIGTERM/SIGINT.
try await app.runService()
