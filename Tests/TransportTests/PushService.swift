#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ShopfloorTransport
import Testing

/// `Tests/support/push_service.py` as a subprocess on a loopback port: a Web Push service that makes
/// subscriptions, verifies VAPID, decrypts what it receives and keeps it for the test to read.
///
/// Started on a thread of its own (``onThread(_:)``), since starting blocks until Python prints its
/// port. ``stop()`` kills the process and waits for it; `deinit` does the same, so a test that fails
/// half-way leaves nothing running. Immutable once started, hence `Sendable`.
final class PushService: Sendable {
    struct Subscription: Sendable {
        let id: String
        let endpoint: String
        let keys: WebPushSubscriptionKeys
    }

    /// A message the service decrypted and stored, and the VAPID claims it verified.
    struct Message: Sendable {
        let subscription: String
        let plaintext: String
        let ttl: Int
        let urgency: String?
        let topic: String?
        let contentEncoding: String?
        let audience: String
        let subject: String
        let expiry: Int64
        let key: String
    }

    /// A push request the service refused, and why.
    struct Rejection: Sendable, Equatable {
        let subscription: String
        let status: Int
        let reason: String
    }

    /// A Python that can import `http_ece` and `cryptography`: `$SHOPFLOOR_TEST_PYTHON`, else
    /// `.build/venv/bin/python` (`make venv`), else none and the tests are skipped.
    static let python: String? = {
        let candidates: [String?] = [
            ProcessInfo.processInfo.environment["SHOPFLOOR_TEST_PYTHON"],
            SMTPSink.packageRoot.appendingPathComponent(".build/venv/bin/python").path,
        ]
        return candidates.compactMap { $0 }.first { (path: String) -> Bool in
            guard FileManager.default.isExecutableFile(atPath: path) else { return false }
            return (try? SMTPSink.run(path, ["-c", "import http_ece, cryptography"])) != nil
        }
    }()

    static let skipReason: Comment = "needs a Python with http_ece and cryptography: set SHOPFLOOR_TEST_PYTHON, or run `make venv` for .build/venv"

    let port: Int
    private let process: ChildProcess

    /// The origin a VAPID token for this service must name.
    var origin: String { "http://127.0.0.1:\(port)" }

    /// Starts the service with `arguments` (besides `--port 0`) and waits for the port it prints.
    init(_ arguments: [String] = [], in directory: TestDirectory) throws {
        guard let python = Self.python else { throw TestSetupFailure(description: "no Python with http_ece and cryptography") }
        let log = directory.url.appendingPathComponent("push-service-\(UUID().uuidString).log")
        let process = try ChildProcess(python, [SMTPSink.packageRoot.appendingPathComponent("Tests/support/push_service.py").path, "--port", "0"]
                                       + arguments, errorPath: log.path)
        guard let line = process.firstLine() else { throw process.failure("push_service.py did not print its port", errorPath: log.path) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let port = object["port"] as? Int else {
            throw process.failure("push_service.py printed \(line.debugDescription)", errorPath: log.path)
        }
        self.port = port
        self.process = process
    }

    deinit { stop() }

    /// Kills the service and waits for it to exit.
    func stop() {
        // SIGKILL: no clean shutdown to wait for.
        process.kill()
        process.wait()
    }

    /// A new subscription, restricted to `applicationServerKey` (base64url) when one is given.
    func subscribe(applicationServerKey: String? = nil) throws -> Subscription {
        let request: [String: Any] = applicationServerKey.map { ["application_server_key": $0] } ?? [:]
        let response = try post("/subscriptions", json: request)
        guard response.status == 201, let object = try Self.object(response.body), let id = object["id"] as? String,
              let endpoint = object["endpoint"] as? String, let keys = object["keys"] as? [String: String],
              let p256dh = keys["p256dh"], let auth = keys["auth"]
        else { throw TestSetupFailure(description: "POST /subscriptions answered \(response.status) \(response.body)") }
        return Subscription(id: id, endpoint: endpoint, keys: try WebPushSubscriptionKeys(p256dh: p256dh, auth: auth))
    }

    /// Changes the failure modes (`gone`, `throttle`, `retry_after`, `fail`, `delay`, `reset`).
    func control(_ settings: [String: Any]) throws {
        let response = try post("/control", json: settings)
        guard response.status == 200 else { throw TestSetupFailure(description: "POST /control answered \(response.status)") }
    }

    /// Sends `request` as the HTTP client will: its method, target, header fields and body.
    func send(_ request: WebPushRequest) throws -> BlockingHTTP.Response {
        try BlockingHTTP.exchange(
            host: request.endpoint.host, port: request.endpoint.port, method: request.method, target: request.endpoint.target,
            headers: request.headers, body: request.body)
    }

    func messages() throws -> [Message] {
        try list("/messages").map { object in
            let vapid = object["vapid"] as? [String: Any]
            let claims = vapid?["claims"] as? [String: Any]
            let headers = object["headers"] as? [String: String]
            return Message(
                subscription: object["subscription"] as? String ?? "", plaintext: object["plaintext"] as? String ?? "",
                ttl: object["ttl"] as? Int ?? -1, urgency: object["urgency"] as? String, topic: object["topic"] as? String,
                contentEncoding: headers?["content-encoding"], audience: claims?["aud"] as? String ?? "",
                subject: claims?["sub"] as? String ?? "", expiry: (claims?["exp"] as? NSNumber)?.int64Value ?? 0,
                key: vapid?["k"] as? String ?? "")
        }
    }

    func rejections() throws -> [Rejection] {
        try list("/rejections").map { object in
            Rejection(
                subscription: object["subscription"] as? String ?? "", status: object["status"] as? Int ?? 0,
                reason: object["reason"] as? String ?? "")
        }
    }

    private func post(_ target: String, json: [String: Any]) throws -> BlockingHTTP.Response {
        let body = try JSONSerialization.data(withJSONObject: json)
        return try BlockingHTTP.exchange(
            host: "127.0.0.1", port: port, method: "POST", target: target, headers: [("Content-Type", "application/json")], body: Array(body))
    }

    private func list(_ target: String) throws -> [[String: Any]] {
        let response = try BlockingHTTP.exchange(host: "127.0.0.1", port: port, method: "GET", target: target)
        guard response.status == 200, let list = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]] else {
            throw TestSetupFailure(description: "GET \(target) answered \(response.status) \(response.body)")
        }
        return list
    }

    private static func object(_ text: String) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }
}
