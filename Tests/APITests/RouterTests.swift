import HTTPTypes
import Logging
import ShopfloorAPI
import ShopfloorTransport
import Testing

private let routeField = HTTPField.Name("X-Route")!

/// A handler that answers with its own name, so a test can tell which route matched.
private func named(_ name: String) -> RequestHandler {
    { _, _ in HTTPServerResponse(status: .ok, headerFields: [routeField: name]) }
}

private func makeRouter() -> Router {
    var router = Router()
    router.on(.get, "/v1/products", handler: named("list"))
    router.on(.post, "/v1/products", handler: named("create"))
    router.on(.get, "/v1/products/search", handler: named("search"))
    router.on(.get, "/v1/products/{id}", handler: named("show"))
    router.on(.delete, "/v1/products/{id}", handler: named("delete"))
    router.on(.get, "/v1/products/{id}/variants/{sku}", handler: named("variant"))
    router.on(.post, "/v1/carts", handler: named("cart"))
    router.on(.get, "/", handler: named("root"))
    return router
}

/// The name of the handler `match` found and its parameters, or `nil` when it found none.
private func route(_ method: HTTPRequest.Method, _ path: Substring) async throws -> (name: String, parameters: [String: String])? {
    guard case .handler(let handler, let parameters, _) = makeRouter().match(method, path: path) else { return nil }
    let request = HTTPServerRequest(head: HTTPRequest(method: method, scheme: nil, authority: "x", path: String(path)))
    let response = try await handler(request, RequestContext(logger: Logger(label: "test")))
    return (response.headerFields[routeField] ?? "?", parameters)
}

@Suite struct RouterTests {
    @Test func literalSegmentWinsOverParameter() async throws {
        let search = try #require(try await route(.get, "/v1/products/search"))
        #expect(search.name == "search")
        #expect(search.parameters.isEmpty)
        let show = try #require(try await route(.get, "/v1/products/prod_123"))
        #expect(show.name == "show")
        #expect(show.parameters == ["id": "prod_123"])
    }

    @Test func nestedParametersAreAllCaptured() async throws {
        let variant = try #require(try await route(.get, "/v1/products/prod_1/variants/SKU-9"))
        #expect(variant.name == "variant")
        #expect(variant.parameters == ["id": "prod_1", "sku": "SKU-9"])
    }

    @Test func methodSelectsTheHandler() async throws {
        #expect(try await route(.get, "/v1/products")?.name == "list")
        #expect(try await route(.post, "/v1/products")?.name == "create")
        #expect(try await route(.delete, "/v1/products/p1")?.name == "delete")
        #expect(try await route(.get, "/")?.name == "root")
    }

    @Test(arguments: [
        ("a%20b", "a b"),
        ("caf%C3%A9", "café"),
        ("%E2%82%AC", "€"),
        ("100%25", "100%"),
        ("slash%2Fin", "slash/in"),
        ("plus+stays", "plus+stays"),
    ])
    func parametersArePercentDecoded(_ raw: String, _ decoded: String) async throws {
        let show = try #require(try await route(.get, "/v1/products/\(raw)"[...]))
        #expect(show.name == "show")
        #expect(show.parameters["id"] == decoded)
    }

    /// A `{id}` route must not run without its `id`: a malformed escape (`%zz`, `%E2%82`, a lone `%`)
    /// should not match (or should reach the handler decoded), never reach it with the parameter missing.
    @Test(arguments: ["%zz", "%", "%E2%82", "%FF"])
    func malformedEscapeNeverReachesHandlerWithoutItsParameter(_ raw: String) async throws {
        if let show = try await route(.get, "/v1/products/\(raw)"[...]) {
            #expect(show.parameters["id"] != nil, "handler '\(show.name)' ran without its id parameter")
        }
    }

    @Test func methodNotAllowedListsAllowedMethodsWithHeadForGet() {
        guard case .methodNotAllowed(let allowed) = makeRouter().match(.put, path: "/v1/products") else {
            Issue.record("expected methodNotAllowed")
            return
        }
        #expect(allowed == [.get, .head, .post])
        guard case .methodNotAllowed(let postOnly) = makeRouter().match(.get, path: "/v1/carts") else {
            Issue.record("expected methodNotAllowed")
            return
        }
        #expect(postOnly == [.post])
    }

    @Test func headIsServedByTheGetHandler() async throws {
        #expect(try await route(.head, "/v1/products")?.name == "list")
        #expect(try await route(.head, "/v1/products/p1")?.name == "show")
    }

    @Test(arguments: ["/nope", "/v1", "/v1/products/p1/extra", "/v1/products/p1/variants", "/v2/products"])
    func unknownPathIsNotFound(_ path: String) {
        guard case .notFound = makeRouter().match(.get, path: path[...]) else {
            Issue.record("expected notFound for \(path)")
            return
        }
    }

    /// Segments are what lies between slashes, empty ones skipped: doubled and trailing slashes and a
    /// path of slashes alone match as their plain forms do.
    @Test(arguments: [
        ("//v1//products/", "list", [:]), ("/v1/products/p1/", "show", ["id": "p1"]),
        ("/v1/products//p1//variants///S1", "variant", ["id": "p1", "sku": "S1"]), ("///", "root", [:]),
    ] as [(Substring, String, [String: String])])
    func emptySegmentsAreSkipped(_ path: Substring, _ name: String, _ parameters: [String: String]) async throws {
        let found = try #require(try await route(.get, path))
        #expect(found.name == name)
        #expect(found.parameters == parameters)
    }

    @Test func registeringARouteTwiceTraps() async {
        await #expect(processExitsWith: .failure) {
            var router = Router()
            router.on(.get, "/twice") { _, _ in HTTPServerResponse(status: .ok) }
            router.on(.get, "/twice") { _, _ in HTTPServerResponse(status: .ok) }
        }
    }
}
