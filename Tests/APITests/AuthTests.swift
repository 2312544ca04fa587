import Foundation
import ShopfloorAPI
import ShopfloorDomain
import ShopfloorTesting
import Testing
import TransportTesting

/// One route and the status each caller gets. `{product}` and `{key}` in the path stand for a product
/// and a spare API key made before the calls; callers go anonymous, storefront, pos, admin, so a
/// route that deletes does so last.
struct RouteAccess: Sendable, CustomTestStringConvertible {
    var method: String
    var path: String
    var body: String?
    /// Statuses for anonymous, storefront, pos (bound to `main`) and admin, in that order.
    var statuses: [Int]

    init(_ method: String, _ path: String, body: String? = nil, _ statuses: [Int]) {
        self.method = method
        self.path = path
        self.body = body
        self.statuses = statuses
    }

    var testDescription: String { "\(method) \(path)" }

    static let adminOnly = [401, 403, 403]
    static let tills = [401, 403]
    static let everyone = [200, 200, 200, 200]
}

private let importBody = #"{"products":[\#(makeProductJSON(title: "Imported", skus: ["IMP-1"]))]}"#

private let routeTable: [RouteAccess] = [
    RouteAccess("POST", "/v1/products", body: makeProductJSON(title: "Teapot", skus: ["POT-1"]), RouteAccess.adminOnly + [201]),
    RouteAccess("GET", "/v1/products", RouteAccess.everyone),
    RouteAccess("GET", "/v1/products/{product}", RouteAccess.everyone),
    RouteAccess("PATCH", "/v1/products/{product}", body: #"{"title":"Green Mug"}"#, RouteAccess.adminOnly + [200]),
    RouteAccess("DELETE", "/v1/products/{product}", RouteAccess.adminOnly + [204]),
    RouteAccess("POST", "/v1/products/import", body: importBody, RouteAccess.adminOnly + [201]),
    RouteAccess("POST", "/v1/locations", body: #"{"code":"york","name":"York","kind":"store","fulfils_online":true}"#, RouteAccess.adminOnly + [201]),
    RouteAccess("GET", "/v1/locations", RouteAccess.everyone),
    RouteAccess("GET", "/v1/inventory/MUG-1", RouteAccess.tills + [200, 200]),
    RouteAccess("POST", "/v1/inventory/MUG-1/adjustments", body: #"{"delta":5,"reason":"received"}"#, RouteAccess.tills + [200, 200]),
    RouteAccess("PUT", "/v1/inventory/MUG-1/levels/main", body: #"{"on_hand":3}"#, RouteAccess.adminOnly + [200]),
    RouteAccess("GET", "/v1/inventory/MUG-1/movements", RouteAccess.tills + [200, 200]),
    RouteAccess("POST", "/v1/api-keys", body: #"{"role":"storefront","name":"Web shop"}"#, RouteAccess.adminOnly + [201]),
    RouteAccess("GET", "/v1/api-keys", RouteAccess.adminOnly + [200]),
    RouteAccess("DELETE", "/v1/api-keys/{key}", RouteAccess.adminOnly + [204]),
    RouteAccess("GET", "/v1/events", RouteAccess.adminOnly + [200]),
    RouteAccess("GET", "/v1/messages", RouteAccess.adminOnly + [200]),
    RouteAccess("GET", "/v1/templates", RouteAccess.adminOnly + [200]),
    RouteAccess("PUT", "/v1/templates/sign_in_code", body: #"{"subject":"Code","text":"Your code: {{code}}"}"#, RouteAccess.adminOnly + [200]),
]

@Suite(.timeLimit(.minutes(1))) struct AuthTests {
    /// Every route for every caller: 401 without a key, 403 with a key of the wrong role, 2xx otherwise;
    /// a refused write leaves no event behind.
    @Test(arguments: routeTable)
    func routeAnswersEachRole(_ route: RouteAccess) async throws {
        try await withShop { shop in
            let product = try await shop.createProduct()
            try await shop.createLocation(code: "leeds")
            let spare = try await shop.issueKey(role: "storefront", name: "spare")
            let keys = try await shop.issueCallerKeys()
            let path = route.path.replacing("{product}", with: product.id.rawValue).replacing("{key}", with: spare.id)

            for (caller, expected) in zip(Caller.allCases, route.statuses) {
                let before = try await shop.lastSeq()
                let response = try await shop.send(route.method, path, key: keys[caller]!, json: route.body)
                #expect(response.status == expected, "\(caller): \(response.bodyText)")
                switch expected {
                case 401:
                    #expect(try response.problem.code == "unauthorized")
                    #expect(response.header("WWW-Authenticate") == "Bearer")
                case 403:
                    let problem = try response.problem
                    #expect(problem.code == "forbidden")
                    #expect(problem.status == 403)
                default:
                    #expect(response.header("Content-Type") == (expected == 204 ? nil : "application/json"), "\(caller)")
                }
                if expected >= 400 {
                    #expect(try await shop.events(since: before).isEmpty, "\(caller) changed state with a \(expected)")
                }
            }
        }
    }

    @Test func routeTableCoversEveryCaller() {
        #expect(routeTable.allSatisfy { $0.statuses.count == Caller.allCases.count })
    }

    @Test func unknownKeyIsRefusedEvenOnPublicRoutes() async throws {
        try await withShop { shop in
            for path in ["/v1/products", "/v1/locations"] {
                let response = try await shop.send("GET", path, key: "sf_NOTAREALKEY")
                #expect(response.status == 401)
                #expect(response.header("WWW-Authenticate") == "Bearer")
                let problem = try response.problem
                #expect(problem.code == "unauthorized")
                #expect(problem.detail == "A valid API key is required: Authorization: Bearer <key>.")
            }
        }
    }

    @Test(arguments: ["Basic dGVzdDp0ZXN0", "Bearer", "Bearer ", "Token test-admin-key", "test-admin-key", "Bearertest-admin-key"])
    func malformedAuthorizationIs401(_ value: String) async throws {
        try await withShop { shop in
            let response = try await shop.send("GET", "/v1/products", key: nil, headers: [("Authorization", value)])
            #expect(response.status == 401)
            #expect(try response.problem.code == "unauthorized")
        }
    }

    @Test func bearerSchemeIsCaseInsensitive() async throws {
        try await withShop { shop in
            for scheme in ["bearer", "BEARER", "Bearer"] {
                let response = try await shop.send("GET", "/v1/api-keys", key: nil, headers: [("Authorization", "\(scheme) \(testAdminKey)")])
                #expect(response.status == 200, "\(scheme)")
            }
        }
    }

    @Test func issuedKeyWorksAtOnceIsListedWithoutItsSecretAndStopsWhenRevoked() async throws {
        try await withShop { shop in
            let issued = try await shop.issueKey(role: "pos", name: "Till 1", location: "main")
            #expect(issued.id.hasPrefix("key_"))
            #expect(issued.key.hasPrefix("sf_"))
            #expect(issued.name == "Till 1")
            #expect(issued.role == "pos")
            #expect(issued.location == "main")
            #expect(Timestamp.date(issued.createdAt) != nil)

            #expect(try await shop.send("GET", "/v1/inventory/NOPE", key: issued.key).status == 404)

            let list = try await shop.send("GET", "/v1/api-keys")
            #expect(list.status == 200)
            #expect(!list.bodyText.contains(issued.key))
            let keys = try list.decoded(PageBody<APIKey>.self)
            #expect(keys.nextCursor == nil)
            // Keys made in the same second list in id order, so look them up rather than rely on position.
            #expect(Set(keys.items.map(\.name)) == ["SHOPFLOOR_ADMIN_KEY", "Till 1"])
            #expect(keys.items.first { $0.name == "SHOPFLOOR_ADMIN_KEY" }?.role == .admin)
            let listed = try #require(keys.items.first { $0.id.rawValue == issued.id })
            #expect(listed.id.rawValue == issued.id)
            #expect((listed.name, listed.role, listed.location, listed.createdAt) == ("Till 1", .pos, "main", issued.createdAt))
            let wire = try #require((try list.jsonObject["items"] as? [[String: Any]])?.first { $0["id"] as? String == issued.id })
            #expect(Set(wire.keys) == ["id", "name", "role", "location", "created_at"])

            let revoke = try await shop.send("DELETE", "/v1/api-keys/\(issued.id)")
            #expect(revoke.status == 204)
            #expect(revoke.body.isEmpty)
            let refused = try await shop.send("GET", "/v1/inventory/NOPE", key: issued.key)
            #expect(refused.status == 401)
            #expect(try refused.problem.code == "unauthorized")
            #expect(try await shop.send("GET", "/v1/api-keys").decoded(PageBody<APIKey>.self).items.map(\.role) == [.admin])

            let again = try await shop.send("DELETE", "/v1/api-keys/\(issued.id)")
            #expect(again.status == 404)
            #expect(try again.problem.code == "not_found")
        }
    }

    @Test func posKeyMayNameItsLocationByID() async throws {
        try await withShop { shop in
            let issued = try await shop.issueKey(role: "pos", location: "loc_main")
            #expect(issued.location == "main")
        }
    }

    @Test(arguments: [
        (#"{"role":"pos","name":"Till"}"#, 422, "location"),
        (#"{"role":"storefront","name":"Web","location":"main"}"#, 422, "location"),
        (#"{"role":"admin","name":"Ops","location":"main"}"#, 422, "location"),
        (#"{"role":"owner","name":"Boss"}"#, 422, "role"),
        (#"{"name":"No role"}"#, 422, "role"),
        (#"{"role":"storefront"}"#, 422, "name"),
        (#"{"role":"storefront","name":"  "}"#, 422, "name"),
        (#"{"role":"storefront","name":7}"#, 422, "name"),
    ])
    func invalidKeyRequestNamesTheField(_ body: String, _ status: Int, _ field: String) async throws {
        try await withShop { shop in
            let response = try await shop.send("POST", "/v1/api-keys", json: body)
            #expect(response.status == status)
            let problem = try response.problem
            #expect(problem.code == "invalid_request")
            #expect(problem.errors?.map(\.field) == [field])
            #expect(try await shop.send("GET", "/v1/api-keys").decoded(PageBody<APIKey>.self).items.count == 1)
        }
    }

    @Test func posKeyForUnknownLocationIs404() async throws {
        try await withShop { shop in
            let response = try await shop.send("POST", "/v1/api-keys", json: #"{"role":"pos","name":"Till","location":"nowhere"}"#)
            #expect(response.status == 404)
            let problem = try response.problem
            #expect(problem.code == "not_found")
            #expect(problem.detail == "No location nowhere.")
        }
    }

    @Test func configuredAdminKeyWritesNoKeyFile() async throws {
        try await withShop { shop in
            #expect(!FileManager.default.fileExists(atPath: shop.server.dataDirectory + "/admin.key"))
        }
    }

    @Test func withoutAConfiguredKeyAFirstAdminKeyIsWrittenWithMode0600() async throws {
        try await withTestServer { server in
            let path = server.dataDirectory + "/admin.key"
            let contents = try String(contentsOfFile: path, encoding: .utf8)
            #expect(contents.hasPrefix("sf_") && contents.hasSuffix("\n"))
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            let client = try await server.connect()
            defer { client.close() }
            let key = String(contents.dropLast())
            let response = try await client.request("GET", "/v1/api-keys", headers: [("Authorization", "Bearer \(key)")])
            #expect(response.status == 200)
            #expect(try response.decoded(PageBody<APIKey>.self).items.map(\.name) == ["first admin"])
        }
    }

    /// A configured admin key is used exactly as configured, even one with inner spaces: the server must
    /// either accept it as sent or refuse to start with it, never start with a key nobody can use.
    @Test func configuredAdminKeyWithASpaceCanBeUsed() async throws {
        let key = "correct horse battery staple"
        try await withTestServer(configure: { $0.adminKey = key }) { server in
            let client = try await server.connect()
            defer { client.close() }
            let response = try await client.request("GET", "/v1/api-keys", headers: [("Authorization", "Bearer \(key)")])
            #expect(response.status == 200, "\(response.bodyText)")
        }
    }

    @Test func keyWithSpacesInsertedIsNotTheKey() async throws {
        try await withShop { shop in
            let response = try await shop.send("GET", "/v1/api-keys", key: nil, headers: [("Authorization", "Bearer test-admin -key")])
            #expect(response.status == 401, "a token with a space inside is not the admin key")
        }
    }
}
