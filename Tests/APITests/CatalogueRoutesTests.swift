import Foundation
import ShopfloorAPI
import ShopfloorDomain
import ShopfloorTesting
import Testing
import TransportTesting

@Suite(.timeLimit(.minutes(1))) struct CatalogueRoutesTests {
    @Test func productRoundTripCreateReadPatchDelete() async throws {
        try await withShop { shop in
            let created = try await shop.send(
                "POST", "/v1/products",
                json: #"""
                {"title":"Blue Mug","description":"Holds tea.","category":"kitchen","tags":["mugs","blue"],
                 "images":["https://img.example/mug.jpg"],
                 "variants":[{"sku":"MUG-1","title":"Small","price":{"amount":1299,"currency":"GBP"},
                              "attributes":{"size":"S"},"barcode":"4006381333931","low_stock_threshold":3}]}
                """#)
            #expect(created.status == 201)
            #expect(created.header("Content-Type") == "application/json")
            let product = try created.decoded(Product.self)
            #expect(product.id.rawValue.hasPrefix("prod_"))
            #expect(product.title == "Blue Mug")
            #expect(product.description == "Holds tea.")
            #expect(product.category == "kitchen")
            #expect(product.tags == ["mugs", "blue"])
            #expect(product.images == ["https://img.example/mug.jpg"])
            #expect(product.status == .active)
            #expect(product.createdAt == product.updatedAt)
            #expect(Timestamp.date(product.createdAt) != nil)
            let variant = try #require(product.variants.first)
            #expect(product.variants.count == 1)
            #expect(variant.id.rawValue.hasPrefix("var_"))
            #expect(variant.sku == "MUG-1")
            #expect(variant.title == "Small")
            #expect(variant.price == Money(amount: 1299, currency: Currency("GBP")!))
            #expect(variant.attributes == ["size": "S"])
            #expect(variant.barcode == "4006381333931")
            #expect(variant.lowStockThreshold == 3)
            #expect(variant.available == 0)
            let wireVariant = try #require((try created.jsonObject["variants"] as? [[String: Any]])?.first)
            #expect(wireVariant["low_stock_threshold"] as? Int == 3)
            #expect((wireVariant["price"] as? [String: Any])?["amount"] as? Int == 1299)

            let read = try await shop.send("GET", "/v1/products/\(product.id)", key: nil)
            #expect(read.status == 200)
            #expect(try read.decoded(Product.self) == product)

            let patched = try await shop.send(
                "PATCH", "/v1/products/\(product.id)",
                json: #"{"title":"Big Blue Mug","tags":["mugs"],"variants":[{"sku":"MUG-2","price":{"amount":1599,"currency":"GBP"}}]}"#)
            #expect(patched.status == 200)
            let updated = try patched.decoded(Product.self)
            #expect(updated.id == product.id)
            #expect(updated.title == "Big Blue Mug")
            #expect(updated.description == "Holds tea.")
            #expect(updated.category == "kitchen")
            #expect(updated.tags == ["mugs"])
            #expect(updated.variants.map(\.sku) == ["MUG-1", "MUG-2"])
            #expect(updated.variants[0] == variant)
            #expect(updated.variants[1].price.amount == 1599)
            #expect(updated.createdAt == product.createdAt)

            let reread = try await shop.send("GET", "/v1/products/\(product.id)", key: nil)
            #expect(try reread.decoded(Product.self) == updated)

            let deleted = try await shop.send("DELETE", "/v1/products/\(product.id)")
            #expect(deleted.status == 204)
            #expect(deleted.body.isEmpty)
            let gone = try await shop.send("GET", "/v1/products/\(product.id)", key: nil)
            #expect(gone.status == 404)
            let problem = try gone.problem
            #expect(problem.code == "not_found")
            #expect(problem.detail == "No product \(product.id).")
            #expect(try await shop.send("DELETE", "/v1/products/\(product.id)").status == 404)
            #expect(try await shop.send("PATCH", "/v1/products/\(product.id)", json: #"{"title":"x"}"#).status == 404)
            #expect(try await shop.send("GET", "/v1/inventory/MUG-1").status == 404)
            let list = try await shop.send("GET", "/v1/products", key: nil)
            #expect(list.bodyText == #"{"items":[],"next_cursor":null}"#)
        }
    }

    @Test func patchChangesOnlyTheFieldsSent() async throws {
        try await withShop { shop in
            let product = try await shop.createProduct(makeProductJSON(tags: ["a", "b"]))
            let response = try await shop.send("PATCH", "/v1/products/\(product.id)", json: #"{"status":"draft"}"#)
            #expect(response.status == 200)
            var expected = product
            expected.status = .draft
            let updated = try response.decoded(Product.self)
            expected.updatedAt = updated.updatedAt
            #expect(updated == expected)
        }
    }

    /// A patch that names the same new SKU twice is refused like a create that does, not half applied.
    @Test func patchWithARepeatedSKUIsRefused() async throws {
        try await withShop { shop in
            let product = try await shop.createProduct()
            let response = try await shop.send(
                "PATCH", "/v1/products/\(product.id)",
                json: #"{"variants":[{"sku":"NEW-1","price":{"amount":100,"currency":"GBP"}},{"sku":"NEW-1","price":{"amount":200,"currency":"GBP"}}]}"#)
            #expect(response.status == 422, "\(response.bodyText)")
            #expect(try await shop.send("GET", "/v1/products/\(product.id)").decoded(Product.self).variants.map(\.sku) == ["MUG-1"])
        }
    }

    /// Patching a variant's price leaves what the patch does not mention (barcode, threshold, title,
    /// attributes) as it was: absent fields stay as they are.
    @Test func patchingAVariantsPriceKeepsItsOtherFields() async throws {
        try await withShop { shop in
            let product = try await shop.createProduct(#"""
                {"title":"Mug","variants":[{"sku":"MUG-1","title":"Small","barcode":"4006381333931","low_stock_threshold":2,
                 "attributes":{"size":"S"},"price":{"amount":1299,"currency":"GBP"}}]}
                """#)
            let response = try await shop.send(
                "PATCH", "/v1/products/\(product.id)", json: #"{"variants":[{"sku":"MUG-1","price":{"amount":1499,"currency":"GBP"}}]}"#)
            #expect(response.status == 200)
            let variant = try #require(try response.decoded(Product.self).variants.first)
            #expect(variant.price.amount == 1499)
            #expect(variant.title == "Small")
            #expect(variant.barcode == "4006381333931")
            #expect(variant.lowStockThreshold == 2)
            #expect(variant.attributes == ["size": "S"])
        }
    }

    /// A variant added by a patch gets its `initial_stock`, as one added by a create does.
    @Test func variantAddedByPatchGetsItsInitialStock() async throws {
        try await withShop { shop in
            let product = try await shop.createProduct()
            let response = try await shop.send(
                "PATCH", "/v1/products/\(product.id)",
                json: #"{"variants":[{"sku":"MUG-2","price":{"amount":1,"currency":"GBP"},"initial_stock":{"main":5}}]}"#)
            #expect(response.status == 200)
            #expect(try response.decoded(Product.self).variants.last?.available == 5)
            #expect(try await shop.send("GET", "/v1/inventory/MUG-2").decoded(InventoryLevel.self).onHand == 5)
        }
    }

    @Test func duplicateSKUIsAConflictAndStoresNothing() async throws {
        try await withShop { shop in
            let first = try await shop.createProduct()
            let before = try await shop.lastSeq()
            let response = try await shop.send("POST", "/v1/products", json: makeProductJSON(title: "Red Mug", skus: ["MUG-1"]))
            #expect(response.status == 409)
            let problem = try response.problem
            #expect(problem.code == "conflict")
            #expect(problem.status == 409)
            let list = try await shop.send("GET", "/v1/products").decoded(PageBody<Product>.self)
            #expect(list.items.map(\.id) == [first.id])
            #expect(try await shop.events(since: before).isEmpty)

            let other = try await shop.createProduct(makeProductJSON(title: "Plate", skus: ["PLATE-1"]))
            let patch = try await shop.send(
                "PATCH", "/v1/products/\(other.id)", json: #"{"variants":[{"sku":"MUG-1","price":{"amount":1,"currency":"GBP"}}]}"#)
            #expect(patch.status == 409)
            #expect(try patch.problem.code == "conflict")
            #expect(try await shop.send("GET", "/v1/products/\(other.id)").decoded(Product.self) == other)
        }
    }

    @Test func duplicateBarcodeIsAConflict() async throws {
        try await withShop { shop in
            let body = { (sku: String) in
                #"{"title":"Mug","variants":[{"sku":"\#(sku)","barcode":"4006381333931","price":{"amount":1,"currency":"GBP"}}]}"#
            }
            try await shop.createProduct(body("A-1"))
            let response = try await shop.send("POST", "/v1/products", json: body("A-2"))
            #expect(response.status == 409)
            let problem = try response.problem
            #expect(problem.code == "conflict")
            #expect(problem.detail.hasPrefix("A variant with this barcode already exists"))
        }
    }

    @Test func importIsAllOrNothing() async throws {
        try await withShop { shop in
            let products = [makeProductJSON(title: "One", skus: ["X-1"]), makeProductJSON(title: "Two", skus: ["X-1"])]
            let response = try await shop.send("POST", "/v1/products/import", json: #"{"products":[\#(products.joined(separator: ","))]}"#)
            #expect(response.status == 409)
            #expect(try response.problem.code == "conflict")
            #expect(try await shop.send("GET", "/v1/products").bodyText == #"{"items":[],"next_cursor":null}"#)
            #expect(try await shop.events().map(\.type).isEmpty)
        }
    }

    @Test func importCreatesInRequestOrderWithInitialStock() async throws {
        try await withShop { shop in
            let products = [
                makeProductJSON(title: "One", skus: ["A-1"], initialStock: ["main": 4]),
                makeProductJSON(title: "Two", skus: ["B-1", "B-2"]),
            ]
            let response = try await shop.send("POST", "/v1/products/import", json: #"{"products":[\#(products.joined(separator: ","))]}"#)
            #expect(response.status == 201)
            struct ImportResult: Decodable { var created: Int; var ids: [String] }
            let result = try response.decoded(ImportResult.self)
            #expect(result.created == 2)
            let list = try await shop.send("GET", "/v1/products").decoded(PageBody<Product>.self)
            #expect(list.items.map(\.id.rawValue) == result.ids)
            #expect(list.items.map(\.title) == ["One", "Two"])
            #expect(list.items[0].variants[0].available == 4)
            let level = try await shop.send("GET", "/v1/inventory/A-1").decoded(InventoryLevel.self)
            #expect(level.onHand == 4)
            let movements = try await shop.send("GET", "/v1/inventory/A-1/movements").decoded(PageBody<StockMovement>.self)
            #expect(movements.items.map(\.reason) == ["received"])
            #expect(movements.items.first?.actor.hasPrefix("admin:key_") == true)
        }
    }

    /// Bodies that are JSON but do not fit: 422 `invalid_request` naming the failing field by its path.
    @Test(arguments: [
        (#"{"variants":[{"sku":"A","price":{"amount":1,"currency":"GBP"}}]}"#, "title", "is required"),
        (#"{"title":null,"variants":[{"sku":"A","price":{"amount":1,"currency":"GBP"}}]}"#, "title", "must be a string, not null"),
        (#"{"title":"  ","variants":[{"sku":"A","price":{"amount":1,"currency":"GBP"}}]}"#, "title", "must not be empty"),
        (#"{"title":"Mug","variants":[]}"#, "variants", "must hold 1 to 100 variants"),
        (#"{"title":"Mug"}"#, "variants", "is required"),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":"12","currency":"GBP"}}]}"#, "variants[0].price.amount", "must be a whole number"),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":1.5,"currency":"GBP"}}]}"#, "variants[0].price.amount", nil),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":99999999999999999999,"currency":"GBP"}}]}"#, "variants[0].price.amount", nil),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":-1,"currency":"GBP"}}]}"#, "variants[0].price.amount", nil),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":1,"currency":"XXX"}}]}"#, "variants[0].price.currency", nil),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":1}}]}"#, "variants[0].price.currency", "is required"),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":1,"currency":"GBP"}},{"sku":"has space","price":{"amount":1,"currency":"GBP"}}]}"#,
         "variants[1].sku", nil),
        (#"{"title":"Mug","variants":[{"sku":"A","barcode":"4006381333932","price":{"amount":1,"currency":"GBP"}}]}"#, "variants[0].barcode", nil),
        (#"{"title":"Mug","variants":[{"sku":"A","low_stock_threshold":"low","price":{"amount":1,"currency":"GBP"}}]}"#,
         "variants[0].low_stock_threshold", "must be a whole number"),
        (#"{"title":"Mug","variants":[{"sku":"A","low_stock_threshold":-1,"price":{"amount":1,"currency":"GBP"}}]}"#,
         "variants[0].low_stock_threshold", nil),
        (#"{"title":"Mug","status":"live","variants":[{"sku":"A","price":{"amount":1,"currency":"GBP"}}]}"#, "status", nil),
        (#"{"title":"Mug","images":["ftp://x/y.jpg"],"variants":[{"sku":"A","price":{"amount":1,"currency":"GBP"}}]}"#, "images[0]", nil),
        (#"{"title":"Mug","variants":[{"sku":"A","price":{"amount":1,"currency":"GBP"}},{"sku":"A","price":{"amount":2,"currency":"GBP"}}]}"#,
         "variants", "SKUs must be unique"),
    ] as [(String, String, String?)])
    func invalidProductNamesTheFailingField(_ body: String, _ field: String, _ detail: String?) async throws {
        try await withShop { shop in
            let response = try await shop.send("POST", "/v1/products", json: body)
            #expect(response.status == 422, "\(response.bodyText)")
            let problem = try response.problem
            #expect(problem.code == "invalid_request")
            #expect(problem.status == 422)
            let errors = try #require(problem.errors)
            #expect(errors.map(\.field) == [field], "\(response.bodyText)")
            if let detail { #expect(errors.first?.detail == detail) }
            #expect(try await shop.events().isEmpty)
        }
    }

    @Test func invalidImportNamesTheProductAndField() async throws {
        try await withShop { shop in
            let products = [makeProductJSON(title: "Fine", skus: ["OK-1"]), makeProductJSON(title: "Bad", skus: ["not ok"])]
            let response = try await shop.send("POST", "/v1/products/import", json: #"{"products":[\#(products.joined(separator: ","))]}"#)
            #expect(response.status == 422)
            #expect(try response.problem.errors?.map(\.field) == ["products[1].variants[0].sku"])

            let empty = try await shop.send("POST", "/v1/products/import", json: #"{"products":[]}"#)
            #expect(empty.status == 422)
            #expect(try empty.problem.errors?.map(\.field) == ["products"])
            #expect(try await shop.send("GET", "/v1/products").bodyText == #"{"items":[],"next_cursor":null}"#)
        }
    }

    @Test func invalidPatchNamesTheFieldAndChangesNothing() async throws {
        try await withShop { shop in
            let product = try await shop.createProduct()
            for (body, field) in [(#"{"title":""}"#, "title"), (#"{"tags":[""]}"#, "tags[0]"), (#"{"status":"gone"}"#, "status")] {
                let response = try await shop.send("PATCH", "/v1/products/\(product.id)", json: body)
                #expect(response.status == 422, "\(body)")
                #expect(try response.problem.errors?.map(\.field) == [field])
            }
            #expect(try await shop.send("GET", "/v1/products/\(product.id)").decoded(Product.self) == product)
        }
    }

    @Test(arguments: [
        (#"{"title":"Mug","#, "unexpected end of input"),
        (#"{"title":"Mug","title":"Cup","variants":[]}"#, "duplicate object key"),
        (#"{"title":"Mug","variants":[],}"#, "unexpected character"),
        (#"{"title":"Mug"} {}"#, "data after the JSON value"),
        ("", "unexpected end of input"),
    ])
    func malformedJSONIs400(_ body: String, _ reason: String) async throws {
        try await withShop { shop in
            let response = try await shop.send("POST", "/v1/products", json: body)
            #expect(response.status == 400)
            let problem = try response.problem
            #expect(problem.code == "invalid_request")
            #expect(problem.detail.hasPrefix("The body is not valid JSON: \(reason) at byte "), "\(problem.detail)")
        }
    }

    @Test func invalidUTF8InABodyIs400() async throws {
        try await withShop { shop in
            let bytes = Array(#"{"title":""#.utf8) + [0xC0, 0xAF] + Array(#"","variants":[]}"#.utf8)
            let response = try await shop.client.request(
                "POST", "/v1/products", headers: [("Authorization", "Bearer \(testAdminKey)"), ("Content-Type", "application/json")], body: bytes)
            #expect(response.status == 400)
            #expect(try response.problem.detail == "The body is not valid JSON: invalid UTF-8 at byte 10.")
        }
    }

    @Test(arguments: [
        ("POST", "/v1/products", "text/plain"),
        ("POST", "/v1/products", nil),
        ("POST", "/v1/products", "application/x-www-form-urlencoded"),
        ("POST", "/v1/products/import", "text/json"),
        ("PATCH", "/v1/products/{product}", "text/plain"),
        ("POST", "/v1/locations", "application/xml"),
        ("POST", "/v1/inventory/MUG-1/adjustments", "text/plain"),
        ("PUT", "/v1/inventory/MUG-1/levels/main", "multipart/form-data"),
        ("POST", "/v1/api-keys", "text/plain"),
    ] as [(String, String, String?)])
    func nonJSONBodyIs415(_ method: String, _ path: String, _ contentType: String?) async throws {
        try await withShop { shop in
            let product = try await shop.createProduct()
            let before = try await shop.lastSeq()
            let response = try await shop.client.request(
                method, path.replacing("{product}", with: product.id.rawValue),
                headers: [("Authorization", "Bearer \(testAdminKey)")] + (contentType.map { [("Content-Type", $0)] } ?? []),
                body: Array(#"{"title":"x"}"#.utf8))
            #expect(response.status == 415)
            let problem = try response.problem
            #expect(problem.code == "invalid_request")
            #expect(problem.detail == "The body must be application/json.")
            #expect(try await shop.events(since: before).isEmpty)
        }
    }

    @Test func twoContentTypesAre415EvenWhenBothAreJSON() async throws {
        try await withShop { shop in
            let before = try await shop.lastSeq()
            let response = try await shop.client.request(
                "POST", "/v1/products",
                headers: [("Authorization", "Bearer \(testAdminKey)"), ("Content-Type", "application/json"), ("Content-Type", "application/json")],
                body: Array(#"{"title":"x"}"#.utf8))
            #expect(response.status == 415)
            #expect(try await shop.events(since: before).isEmpty)
        }
    }

    @Test(arguments: ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json", " application/json ;charset=utf-8", "\tAPPLICATION/json\t"])
    func jsonMediaTypesAreAccepted(_ contentType: String) async throws {
        try await withShop { shop in
            let product = try await shop.createProduct()
            let response = try await shop.send("PATCH", "/v1/products/\(product.id)", json: #"{"title":"Cup"}"#, headers: [("Content-Type", contentType)])
            #expect(response.status == 200)
            #expect(try response.decoded(Product.self).title == "Cup")
        }
    }

    /// Following `next_cursor` from the first page lists every product exactly once, in creation order.
    @Test(arguments: [(7, 3), (6, 3), (1, 1), (5, 200), (4, 1)])
    func paginationCoversEveryProductOnce(_ count: Int, _ limit: Int) async throws {
        try await withShop { shop in
            let products = (0..<count).map { makeProductJSON(title: "Mug \($0)", skus: ["MUG-\($0)"]) }
            let created = try await shop.send("POST", "/v1/products/import", json: #"{"products":[\#(products.joined(separator: ","))]}"#)
            struct ImportResult: Decodable { var ids: [String] }
            let ids = try created.decoded(ImportResult.self).ids

            var seen: [String] = []
            var pageSizes: [Int] = []
            var cursor: String?
            repeat {
                let query = "limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                let response = try await shop.send("GET", "/v1/products?\(query)", key: nil)
                try #require(response.status == 200, "\(response.bodyText)")
                let page = try response.decoded(PageBody<Product>.self)
                seen += page.items.map(\.id.rawValue)
                pageSizes.append(page.items.count)
                cursor = page.nextCursor
                try #require(pageSizes.count <= count + 1, "pagination does not end")
            } while cursor != nil
            #expect(seen == ids)
            let full = count / limit, rest = count % limit
            #expect(pageSizes == Array(repeating: limit, count: full) + (rest > 0 ? [rest] : []))
        }
    }

    @Test func searchPaginationCoversEveryMatchOnce() async throws {
        try await withShop { shop in
            let products = (0..<5).map { makeProductJSON(title: "Blue Mug \($0)", skus: ["MUG-\($0)"]) }
                + [makeProductJSON(title: "Plate", skus: ["PLATE-1"])]
            _ = try await shop.send("POST", "/v1/products/import", json: #"{"products":[\#(products.joined(separator: ","))]}"#)
            var titles: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let response = try await shop.send("GET", "/v1/products?q=mug&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), key: nil)
                try #require(response.status == 200)
                let page = try response.decoded(PageBody<Product>.self)
                titles += page.items.map(\.title)
                cursor = page.nextCursor
                pages += 1
                try #require(pages <= 5)
            } while cursor != nil
            #expect(titles.sorted() == (0..<5).map { "Blue Mug \($0)" })
            #expect(pages == 3)
        }
    }

    @Test func draftsAreHiddenFromThePublicAndListedForAdmins() async throws {
        try await withShop { shop in
            let active = try await shop.createProduct(makeProductJSON(title: "Live", skus: ["L-1"]))
            let draft = try await shop.createProduct(makeProductJSON(title: "Soon", skus: ["D-1"], status: "draft"))
            let keys = try await shop.issueCallerKeys()

            for caller in [Caller.anonymous, .storefront, .pos] {
                let list = try await shop.send("GET", "/v1/products", key: keys[caller]!).decoded(PageBody<Product>.self)
                #expect(list.items.map(\.id) == [active.id], "\(caller)")
                let hidden = try await shop.send("GET", "/v1/products/\(draft.id)", key: keys[caller]!)
                #expect(hidden.status == 404, "\(caller)")
                #expect(try hidden.problem.code == "not_found")
                let filtered = try await shop.send("GET", "/v1/products?status=draft", key: keys[caller]!)
                #expect(filtered.status == 403, "\(caller)")
                #expect(try filtered.problem.code == "forbidden")
            }
            let all = try await shop.send("GET", "/v1/products").decoded(PageBody<Product>.self)
            #expect(all.items.map(\.id) == [active.id, draft.id])
            let drafts = try await shop.send("GET", "/v1/products?status=draft").decoded(PageBody<Product>.self)
            #expect(drafts.items.map(\.id) == [draft.id])
            #expect(try await shop.send("GET", "/v1/products/\(draft.id)").decoded(Product.self) == draft)
        }
    }

    @Test func filtersByCategoryTagAndStock() async throws {
        try await withShop { shop in
            let mug = try await shop.createProduct(makeProductJSON(title: "Mug", skus: ["MUG-1"], tags: ["kitchen", "blue"]))
            let plate = try await shop.createProduct(makeProductJSON(title: "Plate", skus: ["PLATE-1"], tags: ["kitchen"]))
            #expect(try await shop.adjust("PLATE-1", delta: 2).status == 200)
            func ids(_ query: String) async throws -> [ProductID] {
                try await shop.send("GET", "/v1/products?\(query)", key: nil).decoded(PageBody<Product>.self).items.map(\.id)
            }
            #expect(try await ids("tag=kitchen") == [mug.id, plate.id])
            #expect(try await ids("tag=blue") == [mug.id])
            #expect(try await ids("in_stock=true") == [plate.id])
            #expect(try await ids("in_stock=false") == [mug.id, plate.id])
            #expect(try await ids("q=plat") == [plate.id])
        }
    }

    @Test(arguments: ["limit=0", "limit=201", "limit=abc", "cursor=!!!", "status=live", "in_stock=yes"])
    func invalidListQueryIs400(_ query: String) async throws {
        try await withShop { shop in
            let response = try await shop.send("GET", "/v1/products?\(query)", key: nil)
            #expect(response.status == 400)
            #expect(try response.problem.code == "invalid_request")
        }
    }

    @Test func productResponseShowsStockChangesAtOnce() async throws {
        try await withShop { shop in
            let product = try await shop.createProduct()
            let path = "/v1/products/\(product.id)"
            #expect(try await shop.send("GET", path, key: nil).decoded(Product.self).variants[0].available == 0)
            #expect(try await shop.send("GET", "/v1/products", key: nil).decoded(PageBody<Product>.self).items[0].variants[0].available == 0)
            #expect(try await shop.adjust("MUG-1", delta: 6).status == 200)
            #expect(try await shop.send("GET", path, key: nil).decoded(Product.self).variants[0].available == 6)
            #expect(try await shop.send("GET", "/v1/products", key: nil).decoded(PageBody<Product>.self).items[0].variants[0].available == 6)
            #expect(try await shop.send("PUT", "/v1/inventory/MUG-1/levels/main", json: #"{"on_hand":2}"#).status == 200)
            #expect(try await shop.send("GET", path, key: nil).decoded(Product.self).variants[0].available == 2)
            #expect(try await shop.send("PATCH", path, json: #"{"title":"Cup"}"#).status == 200)
            #expect(try await shop.send("GET", path, key: nil).decoded(Product.self).title == "Cup")
        }
    }

    @Test func locationsAreListedPubliclyAndCreatedByAdmins() async throws {
        try await withShop { shop in
            let initial = try await shop.send("GET", "/v1/locations", key: nil).decoded(PageBody<Location>.self)
            #expect(initial.items.map(\.code) == ["main"])
            #expect(initial.items.first?.kind == .store)
            #expect(initial.items.first?.fulfilsOnline == true)
            #expect(initial.nextCursor == nil)

            let leeds = try await shop.createLocation(code: "leeds", kind: "warehouse", fulfilsOnline: false)
            #expect(leeds.id.rawValue.hasPrefix("loc_"))
            #expect(leeds.kind == .warehouse)
            #expect(!leeds.fulfilsOnline)
            let after = try await shop.send("GET", "/v1/locations", key: nil).decoded(PageBody<Location>.self)
            #expect(Set(after.items.map(\.code)) == ["main", "leeds"])

            let duplicate = try await shop.send("POST", "/v1/locations", json: #"{"code":"leeds","name":"Again","kind":"store","fulfils_online":true}"#)
            #expect(duplicate.status == 409)
            #expect(try duplicate.problem.code == "conflict")
        }
    }

    @Test(arguments: [
        (#"{"code":"Leeds","name":"L","kind":"store","fulfils_online":true}"#, "code"),
        (#"{"code":"","name":"L","kind":"store","fulfils_online":true}"#, "code"),
        (#"{"code":"leeds","name":"","kind":"store","fulfils_online":true}"#, "name"),
        (#"{"code":"leeds","name":"L","kind":"shop","fulfils_online":true}"#, "kind"),
        (#"{"code":"leeds","name":"L","kind":"store"}"#, "fulfils_online"),
        (#"{"code":"leeds","name":"L","kind":"store","fulfils_online":"yes"}"#, "fulfils_online"),
    ])
    func invalidLocationNamesTheField(_ body: String, _ field: String) async throws {
        try await withShop { shop in
            let response = try await shop.send("POST", "/v1/locations", json: body)
            #expect(response.status == 422)
            #expect(try response.problem.errors?.map(\.field) == [field])
        }
    }
}
