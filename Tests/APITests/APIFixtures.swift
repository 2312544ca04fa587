import Foundation
import ShopfloorAPI
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTesting
import Testing
import TransportTesting

/// The admin key every ``Shop`` accepts, configured as `SHOPFLOOR_ADMIN_KEY` would be.
let testAdminKey = "test-admin-key"

/// Who makes a call: no key, or a key of one role (`pos` bound to `main`).
enum Caller: String, Sendable, CaseIterable, CustomStringConvertible {
    case anonymous, storefront, pos, admin

    var description: String { rawValue }
}

/// A running server with the admin key configured and one connected client, for route tests.
struct Shop {
    let server: TestServer
    let client: TestHTTPClient

    /// Sends a request with `key` as bearer token (none when `nil`) and `json` as an
    /// `application/json` body.
    func send(
        _ method: String, _ path: String, key: String? = testAdminKey, json: String? = nil, headers: [(String, String)] = []
    ) async throws -> TestHTTPResponse {
        var fields = headers
        if let key { fields.append(("Authorization", "Bearer \(key)")) }
        if json != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            fields.append(("Content-Type", "application/json"))
        }
        return try await client.request(method, path, headers: fields, body: json.map { Array($0.utf8) })
    }

    /// Issues a key through the API and returns its id and secret.
    func issueKey(role: String, name: String = "test key", location: String? = nil) async throws -> IssuedKey {
        let location = location.map { #","location":"\#($0)""# } ?? ""
        let response = try await send("POST", "/v1/api-keys", json: #"{"role":"\#(role)","name":"\#(name)"\#(location)}"#)
        try #require(response.status == 201, "issuing a \(role) key: \(response.status) \(response.bodyText)")
        return try response.decoded(IssuedKey.self)
    }

    /// Keys for every caller: none, a storefront key, a pos key bound to `main`, the admin key.
    func issueCallerKeys() async throws -> [Caller: String?] {
        [
            .anonymous: nil,
            .storefront: try await issueKey(role: "storefront").key,
            .pos: try await issueKey(role: "pos", location: "main").key,
            .admin: testAdminKey,
        ]
    }

    /// Creates a product (as admin) and returns it as stored.
    @discardableResult
    func createProduct(_ json: String = makeProductJSON()) async throws -> Product {
        let response = try await send("POST", "/v1/products", json: json)
        try #require(response.status == 201, "creating a product: \(response.status) \(response.bodyText)")
        return try response.decoded(Product.self)
    }

    /// Creates a location (as admin).
    @discardableResult
    func createLocation(code: String, kind: String = "warehouse", fulfilsOnline: Bool = false) async throws -> Location {
        let response = try await send(
            "POST", "/v1/locations", json: #"{"code":"\#(code)","name":"Location \#(code)","kind":"\#(kind)","fulfils_online":\#(fulfilsOnline)}"#)
        try #require(response.status == 201, "creating location \(code): \(response.status) \(response.bodyText)")
        return try response.decoded(Location.self)
    }

    /// Adjusts stock as admin (or with `key`) and returns the response.
    func adjust(
        _ sku: String, delta: Int, reason: String = "received", location: String? = nil, key: String? = testAdminKey,
        idempotencyKey: String? = nil
    ) async throws -> TestHTTPResponse {
        let location = location.map { #","location":"\#($0)""# } ?? ""
        return try await send(
            "POST", "/v1/inventory/\(sku)/adjustments", key: key, json: #"{"delta":\#(delta),"reason":"\#(reason)"\#(location)}"#,
            headers: idempotencyKey.map { [("Idempotency-Key", $0)] } ?? [])
    }

    /// The whole event log after `since`, read as admin.
    func events(since: Int64 = 0, topics: String? = nil) async throws -> [EventBody] {
        let filter = topics.map { "&topics=\($0)" } ?? ""
        let response = try await send("GET", "/v1/events?since=\(since)&limit=200\(filter)")
        try #require(response.status == 200, "reading events: \(response.status) \(response.bodyText)")
        return try response.decoded(PageBody<EventBody>.self).items
    }

    /// The `seq` of the newest event, or 0 when the log is empty.
    func lastSeq() async throws -> Int64 {
        try await events().last?.seq ?? 0
    }
}

/// Runs `body` against a fresh server whose admin key is ``testAdminKey``, with a connected client.
func withShop<T>(
    configure: @escaping @Sendable (inout Configuration) -> Void = { _ in },
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Shop) async throws -> T
) async throws -> T {
    try await withTestServer(configure: { configuration in
        configuration.adminKey = testAdminKey
        configure(&configuration)
    }) { server in
        let client = try await server.connect()
        defer { client.close() }
        return try await body(Shop(server: server, client: client))
    }
}

/// A `POST /v1/products` body: one variant per SKU at `amount` GBP minor units.
func makeProductJSON(
    title: String = "Blue Mug", skus: [String] = ["MUG-1"], amount: Int = 1299, status: String? = nil, tags: [String]? = nil,
    threshold: Int? = nil, initialStock: [String: Int]? = nil
) -> String {
    let variants = skus.map { sku in
        var fields = #""sku":"\#(sku)","price":{"amount":\#(amount),"currency":"GBP"}"#
        if let threshold { fields += #","low_stock_threshold":\#(threshold)"# }
        if let initialStock {
            let stock = initialStock.sorted { $0.key < $1.key }.map { #""\#($0.key)":\#($0.value)"# }.joined(separator: ",")
            fields += #","initial_stock":{\#(stock)}"#
        }
        return "{\(fields)}"
    }.joined(separator: ",")
    var json = #"{"title":"\#(title)","variants":[\#(variants)]"#
    if let status { json += #","status":"\#(status)""# }
    if let tags { json += #","tags":[\#(tags.map { "\"\($0)\"" }.joined(separator: ","))]"# }
    return json + "}"
}

/// `POST /v1/api-keys`'s answer.
struct IssuedKey: Decodable, Equatable {
    var id: String
    var key: String
    var name: String
    var role: String
    var location: String?
    var createdAt: String
}

/// A list response: `items` and a `next_cursor` that must be present, as `null` on the last page.
struct PageBody<Item: Decodable>: Decodable {
    var items: [Item]
    var nextCursor: String?

    private enum CodingKeys: String, CodingKey { case items, nextCursor }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        items = try container.decode([Item].self, forKey: .items)
        guard container.contains(.nextCursor) else {
            throw DecodingError.keyNotFound(CodingKeys.nextCursor, .init(codingPath: [], debugDescription: "next_cursor is missing"))
        }
        nextCursor = try container.decode(String?.self, forKey: .nextCursor)
    }
}

/// One event as `GET /v1/events` lists it; `data` keeps the fields the tests look at.
struct EventBody: Decodable, Equatable {
    struct Payload: Decodable, Equatable {
        var id: String?
        var title: String?
        var code: String?
        var sku: String?
        var available: Int?
        var onHand: Int?
        var reserved: Int?
        var location: String?
    }

    var seq: Int64
    var type: String
    var topic: String
    var at: String
    var data: Payload
}

extension TestHTTPResponse {
    /// The body decoded with the API's conventions (`snake_case` keys).
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONCoding.decode(type, from: body)
    }

    /// The body as a problem+json document, after checking the content type.
    var problem: ProblemBody {
        get throws {
            #expect(header("Content-Type") == "application/problem+json", "\(status) \(bodyText)")
            return try ProblemBody(body)
        }
    }

    /// The body's top-level object, for checks on the exact wire names.
    var jsonObject: [String: Any] {
        get throws {
            try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(bodyText)")
        }
    }
}
