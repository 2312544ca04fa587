import Foundation
import ShopfloorAPI
import ShopfloorDomain
import ShopfloorTesting
import Testing
import TransportTesting

/// `[on_hand, reserved, available]` at one location, or `nil` when the level does not list it.
private func counts(_ level: InventoryLevel, at location: String) -> [Int]? {
    level.locations.first { $0.location == location }.map { [$0.onHand, $0.reserved, $0.available] }
}

@Suite(.timeLimit(.minutes(1))) struct InventoryRoutesTests {
    @Test func newSKUHasZeroStockAtEveryLocation() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            try await shop.createLocation(code: "leeds")
            let response = try await shop.send("GET", "/v1/inventory/MUG-1")
            #expect(response.status == 200)
            let level = try response.decoded(InventoryLevel.self)
            #expect(level.sku == "MUG-1")
            #expect((level.onHand, level.reserved, level.available) == (0, 0, 0))
            #expect(Set(level.locations.map(\.location)) == ["main", "leeds"])
            #expect(level.locations.allSatisfy { $0.onHand == 0 && $0.reserved == 0 && $0.available == 0 })
            #expect(Set(try response.jsonObject.keys) == ["sku", "on_hand", "reserved", "available", "locations"])
        }
    }

    @Test func adjustmentsChangeOnHandAndAvailability() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            try await shop.createLocation(code: "leeds", kind: "warehouse", fulfilsOnline: false)

            let received = try await shop.adjust("MUG-1", delta: 10)
            #expect(received.status == 200)
            let first = try received.decoded(InventoryLevel.self)
            #expect((first.onHand, first.reserved, first.available) == (10, 0, 10))
            #expect(counts(first, at: "main") == [10, 0, 10])

            let sold = try await shop.adjust("MUG-1", delta: -3, reason: "sold_in_store")
            #expect(try sold.decoded(InventoryLevel.self).onHand == 7)

            // Stock at a location that does not fulfil online is on hand but not available online.
            let stored = try await shop.adjust("MUG-1", delta: 5, location: "leeds")
            let level = try stored.decoded(InventoryLevel.self)
            #expect((level.onHand, level.available) == (12, 7))
            #expect(counts(level, at: "leeds") == [5, 0, 5])

            #expect(try await shop.send("GET", "/v1/inventory/MUG-1").decoded(InventoryLevel.self) == level)
        }
    }

    @Test func adjustmentBelowZeroIsAConflictAndChangesNothing() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            #expect(try await shop.adjust("MUG-1", delta: 2).status == 200)
            let before = try await shop.lastSeq()
            let response = try await shop.adjust("MUG-1", delta: -3, reason: "damaged")
            #expect(response.status == 409)
            let problem = try response.problem
            #expect(problem.code == "conflict")
            #expect(problem.detail == "MUG-1 at main would have -1 on hand with 0 reserved.")
            #expect(try await shop.send("GET", "/v1/inventory/MUG-1").decoded(InventoryLevel.self).onHand == 2)
            #expect(try await shop.events(since: before).isEmpty)
            #expect(try await shop.send("GET", "/v1/inventory/MUG-1/movements").decoded(PageBody<StockMovement>.self).items.count == 1)
        }
    }

    @Test func unknownSKUOrLocationIs404() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            for (method, path, body) in [
                ("GET", "/v1/inventory/NOPE-1", nil),
                ("GET", "/v1/inventory/NOPE-1/movements", nil),
                ("POST", "/v1/inventory/NOPE-1/adjustments", #"{"delta":1,"reason":"received"}"#),
                ("PUT", "/v1/inventory/NOPE-1/levels/main", #"{"on_hand":1}"#),
                ("POST", "/v1/inventory/MUG-1/adjustments", #"{"delta":1,"reason":"received","location":"nowhere"}"#),
                ("PUT", "/v1/inventory/MUG-1/levels/nowhere", #"{"on_hand":1}"#),
            ] as [(String, String, String?)] {
                let response = try await shop.send(method, path, json: body)
                #expect(response.status == 404, "\(method) \(path)")
                #expect(try response.problem.code == "not_found")
            }
            #expect(try await shop.events().map(\.type) == ["product.created"])
        }
    }

    @Test(arguments: [
        (#"{"delta":0,"reason":"received"}"#, "delta"),
        (#"{"delta":1000001,"reason":"received"}"#, "delta"),
        (#"{"delta":"5","reason":"received"}"#, "delta"),
        (#"{"reason":"received"}"#, "delta"),
        (#"{"delta":5,"reason":"found"}"#, "reason"),
        (#"{"delta":5}"#, "reason"),
        (#"{"delta":5,"reason":"received","location":7}"#, "location"),
    ])
    func invalidAdjustmentNamesTheField(_ body: String, _ field: String) async throws {
        try await withShop { shop in
            try await shop.createProduct()
            let response = try await shop.send("POST", "/v1/inventory/MUG-1/adjustments", json: body)
            #expect(response.status == 422, "\(response.bodyText)")
            #expect(try response.problem.errors?.map(\.field) == [field])
        }
    }

    @Test func stocktakeSetsTheCountAndRecordsTheDifference() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            #expect(try await shop.adjust("MUG-1", delta: 7).status == 200)
            let counted = try await shop.send("PUT", "/v1/inventory/MUG-1/levels/main", json: #"{"on_hand":4}"#)
            #expect(counted.status == 200)
            let level = try counted.decoded(InventoryLevel.self)
            #expect((level.onHand, level.available) == (4, 4))
            let up = try await shop.send("PUT", "/v1/inventory/MUG-1/levels/loc_main", json: #"{"on_hand":9}"#)
            #expect(try up.decoded(InventoryLevel.self).onHand == 9)

            let movements = try await shop.send("GET", "/v1/inventory/MUG-1/movements").decoded(PageBody<StockMovement>.self).items
            #expect(movements.map(\.reason) == ["stocktake", "stocktake", "received"])
            #expect(movements.map(\.delta) == [5, -3, 7])
            #expect(movements.map(\.onHandBefore) == [4, 7, 0])
            #expect(movements.map(\.onHandAfter) == [9, 4, 7])

            for body in [#"{"on_hand":-1}"#, #"{"on_hand":100000001}"#, #"{}"#] {
                let response = try await shop.send("PUT", "/v1/inventory/MUG-1/levels/main", json: body)
                #expect(response.status == 422, "\(body)")
                #expect(try response.problem.errors?.map(\.field) == ["on_hand"])
            }
        }
    }

    @Test func movementsAreNewestFirstWithActorAndNoteAndPageByCursor() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            let till = try await shop.issueKey(role: "pos", name: "Till", location: "main")
            #expect(try await shop.adjust("MUG-1", delta: 10).status == 200)
            let noted = try await shop.send(
                "POST", "/v1/inventory/MUG-1/adjustments", key: till.key, json: #"{"delta":-1,"reason":"damaged","note":"dropped"}"#)
            #expect(noted.status == 200)
            for _ in 0..<3 { #expect(try await shop.adjust("MUG-1", delta: -1, reason: "sold_in_store", key: till.key).status == 200) }

            let all = try await shop.send("GET", "/v1/inventory/MUG-1/movements", key: till.key)
            #expect(all.status == 200)
            let movements = try all.decoded(PageBody<StockMovement>.self)
            #expect(movements.nextCursor == nil)
            #expect(movements.items.map(\.delta) == [-1, -1, -1, -1, 10])
            #expect(movements.items.map(\.reason) == ["sold_in_store", "sold_in_store", "sold_in_store", "damaged", "received"])
            #expect(movements.items.map(\.onHandAfter) == [6, 7, 8, 9, 10])
            #expect(movements.items.map(\.id) == movements.items.map(\.id).sorted(by: >))
            #expect(movements.items.allSatisfy { $0.sku == "MUG-1" && $0.location == "main" })
            #expect(movements.items[3].note == "dropped")
            #expect(movements.items[3].actor == "pos:\(till.id)")
            #expect(movements.items[4].actor.hasPrefix("admin:key_"))
            #expect(movements.items.allSatisfy { Timestamp.date($0.at) != nil })

            var paged: [Int64] = []
            var cursor: String?
            var pages = 0
            repeat {
                let response = try await shop.send("GET", "/v1/inventory/MUG-1/movements?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                try #require(response.status == 200)
                let page = try response.decoded(PageBody<StockMovement>.self)
                paged += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
                try #require(pages <= 5)
            } while cursor != nil
            #expect(paged == movements.items.map(\.id))
            #expect(pages == 3)

            let invalid = try await shop.send("GET", "/v1/inventory/MUG-1/movements?cursor=nonsense")
            #expect(invalid.status == 400)
            #expect(try invalid.problem.code == "invalid_request")
        }
    }

    @Test func posKeyAdjustsOnlyItsOwnLocation() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            try await shop.createLocation(code: "leeds", kind: "store", fulfilsOnline: true)
            let till = try await shop.issueKey(role: "pos", name: "Main till", location: "main")

            let own = try await shop.adjust("MUG-1", delta: 4, key: till.key)
            #expect(own.status == 200)
            #expect(try own.decoded(InventoryLevel.self).locations.first { $0.location == "main" }?.onHand == 4)
            #expect(try await shop.adjust("MUG-1", delta: 1, location: "main", key: till.key).status == 200)
            #expect(try await shop.adjust("MUG-1", delta: 1, location: "loc_main", key: till.key).status == 200)

            let before = try await shop.lastSeq()
            let other = try await shop.adjust("MUG-1", delta: 1, location: "leeds", key: till.key)
            #expect(other.status == 403)
            let problem = try other.problem
            #expect(problem.code == "forbidden")
            #expect(problem.detail == "This key may only change stock at its own location, not leeds.")
            let byID = try await shop.adjust("MUG-1", delta: 1, location: "loc_elsewhere", key: till.key)
            #expect(byID.status == 403)

            let stocktake = try await shop.send("PUT", "/v1/inventory/MUG-1/levels/main", key: till.key, json: #"{"on_hand":50}"#)
            #expect(stocktake.status == 403)
            #expect(try stocktake.problem.code == "forbidden")

            #expect(try await shop.events(since: before).isEmpty)
            let level = try await shop.send("GET", "/v1/inventory/MUG-1", key: till.key).decoded(InventoryLevel.self)
            #expect(level.locations.first { $0.location == "main" }?.onHand == 6)
            #expect(level.locations.first { $0.location == "leeds" }?.onHand == 0)
        }
    }

    @Test func revokedPosKeyCannotAdjust() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            let till = try await shop.issueKey(role: "pos", name: "Till", location: "main")
            #expect(try await shop.send("DELETE", "/v1/api-keys/\(till.id)").status == 204)
            let response = try await shop.adjust("MUG-1", delta: 1, key: till.key)
            #expect(response.status == 401)
        }
    }

    @Test func idempotencyKeyAppliesTheAdjustmentOnce() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            let before = try await shop.lastSeq()
            let first = try await shop.adjust("MUG-1", delta: 5, idempotencyKey: "delivery-42")
            #expect(first.status == 200)
            let second = try await shop.adjust("MUG-1", delta: 5, idempotencyKey: "delivery-42")
            #expect(second.status == 200)
            #expect(second.body == first.body)
            // The same key with another body is refused, and changes nothing.
            let changed = try await shop.adjust("MUG-1", delta: 9, idempotencyKey: "delivery-42")
            #expect(changed.status == 422)
            #expect(try changed.problem.code == "invalid_request")

            #expect(try await shop.send("GET", "/v1/inventory/MUG-1").decoded(InventoryLevel.self).onHand == 5)
            #expect(try await shop.send("GET", "/v1/inventory/MUG-1/movements").decoded(PageBody<StockMovement>.self).items.count == 1)
            #expect(try await shop.events(since: before).map(\.type) == ["stock.changed"])

            let next = try await shop.adjust("MUG-1", delta: 5, idempotencyKey: "delivery-43")
            #expect(try next.decoded(InventoryLevel.self).onHand == 10)
            let plain = try await shop.adjust("MUG-1", delta: 1)
            #expect(try plain.decoded(InventoryLevel.self).onHand == 11)
            let plainAgain = try await shop.adjust("MUG-1", delta: 1)
            #expect(try plainAgain.decoded(InventoryLevel.self).onHand == 12)
        }
    }

    @Test func idempotencyKeyIsScopedToTheCallerAndSKU() async throws {
        try await withShop { shop in
            try await shop.createProduct(makeProductJSON(skus: ["MUG-1", "MUG-2"]))
            let till = try await shop.issueKey(role: "pos", name: "Till", location: "main")
            #expect(try await shop.adjust("MUG-1", delta: 2, idempotencyKey: "k1").status == 200)
            let otherSKU = try await shop.adjust("MUG-2", delta: 3, idempotencyKey: "k1")
            #expect(try otherSKU.decoded(InventoryLevel.self).onHand == 3)
            let otherCaller = try await shop.adjust("MUG-1", delta: 4, key: till.key, idempotencyKey: "k1")
            #expect(try otherCaller.decoded(InventoryLevel.self).onHand == 6)
        }
    }

    @Test func failedAdjustmentDoesNotUseUpItsIdempotencyKey() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            let refused = try await shop.adjust("MUG-1", delta: -1, idempotencyKey: "retry-me")
            #expect(refused.status == 409)
            #expect(try await shop.adjust("MUG-1", delta: 3).status == 200)
            let retried = try await shop.adjust("MUG-1", delta: -1, idempotencyKey: "retry-me")
            #expect(retried.status == 200)
            #expect(try retried.decoded(InventoryLevel.self).onHand == 2)
        }
    }

    @Test(arguments: ["has space", String(repeating: "k", count: 201), "tab\there"])
    func invalidIdempotencyKeyIs400(_ key: String) async throws {
        try await withShop { shop in
            try await shop.createProduct()
            let response = try await shop.adjust("MUG-1", delta: 1, idempotencyKey: key)
            #expect(response.status == 400)
            let problem = try response.problem
            #expect(problem.code == "invalid_request")
            #expect(problem.detail == "Idempotency-Key must be 1 to 200 visible ASCII characters.")
            #expect(try await shop.send("GET", "/v1/inventory/MUG-1").decoded(InventoryLevel.self).onHand == 0)
        }
    }
}
