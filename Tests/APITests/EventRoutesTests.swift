import Foundation
import ShopfloorAPI
import ShopfloorDomain
import ShopfloorTesting
import Testing
import TransportTesting

/// A shop with a history: a location, two products, stock movements, a patch and a delete, plus calls
/// that change nothing (reads, refusals, an idempotent retry, key management) in between.
/// Returns the ids of the two products.
private func makeHistory(_ shop: Shop) async throws -> (mug: ProductID, plate: ProductID) {
    try await shop.createLocation(code: "leeds")
    let mug = try await shop.createProduct()
    _ = try await shop.send("GET", "/v1/products/\(mug.id)", key: nil)
    #expect(try await shop.adjust("MUG-1", delta: 5, idempotencyKey: "first").status == 200)
    #expect(try await shop.adjust("MUG-1", delta: 5, idempotencyKey: "first").status == 200)
    #expect(try await shop.adjust("MUG-1", delta: -9, reason: "damaged").status == 409)
    #expect(try await shop.adjust("MUG-1", delta: -2, reason: "sold_in_store").status == 200)
    _ = try await shop.issueKey(role: "storefront")
    #expect(try await shop.send("PUT", "/v1/inventory/MUG-1/levels/leeds", json: #"{"on_hand":10}"#).status == 200)
    let plate = try await shop.createProduct(makeProductJSON(title: "Plate", skus: ["PLATE-1"]))
    #expect(try await shop.adjust("PLATE-1", delta: 1).status == 200)
    #expect(try await shop.send("PATCH", "/v1/products/\(mug.id)", json: #"{"title":"Cup"}"#).status == 200)
    #expect(try await shop.send("POST", "/v1/products", json: makeProductJSON(skus: ["PLATE-1"])).status == 409)
    #expect(try await shop.send("DELETE", "/v1/products/\(plate.id)").status == 204)
    return (mug.id, plate.id)
}

@Suite(.timeLimit(.minutes(1))) struct EventRoutesTests {
    @Test func eachChangeHasOneEventInSeqOrder() async throws {
        try await withShop { shop in
            let (mug, plate) = try await makeHistory(shop)
            let response = try await shop.send("GET", "/v1/events")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            let page = try response.decoded(PageBody<EventBody>.self)
            #expect(page.nextCursor == nil)
            let events = page.items
            #expect(events.map(\.type) == [
                "location.created", "product.created", "stock.changed", "stock.changed", "stock.changed",
                "product.created", "stock.changed", "product.updated", "product.deleted",
            ])
            #expect(events.map(\.topic) == [
                "locations", "product:\(mug)", "stock:MUG-1", "stock:MUG-1", "stock:MUG-1",
                "product:\(plate)", "stock:PLATE-1", "product:\(mug)", "product:\(plate)",
            ])
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.seq < $1.seq })
            #expect(events.allSatisfy { Timestamp.date($0.at) != nil })

            #expect(events[0].data.code == "leeds")
            #expect(events[1].data == EventBody.Payload(id: mug.rawValue, title: "Blue Mug"))
            #expect(events[2].data == EventBody.Payload(sku: "MUG-1", available: 5, onHand: 5, reserved: 0, location: "main"))
            #expect(events[3].data == EventBody.Payload(sku: "MUG-1", available: 3, onHand: 3, reserved: 0, location: "main"))
            #expect(events[4].data == EventBody.Payload(sku: "MUG-1", available: 3, onHand: 13, reserved: 0, location: "leeds"))
            #expect(events[7].data.title == "Cup")
            #expect(events[8].data == EventBody.Payload(id: plate.rawValue))

            let wire = try #require((try response.jsonObject["items"] as? [[String: Any]])?[2])
            #expect(Set(wire.keys) == ["seq", "type", "topic", "at", "data"])
            #expect(Set((wire["data"] as? [String: Any])?.keys ?? [:].keys) == ["sku", "available", "on_hand", "reserved", "location"])
        }
    }

    @Test func stockTopicMatchesEveryStockSKU() async throws {
        try await withShop { shop in
            _ = try await makeHistory(shop)
            let all = try await shop.events()
            let stock = try await shop.events(topics: "stock")
            #expect(stock == all.filter { $0.topic.hasPrefix("stock:") })
            #expect(stock.map(\.topic) == ["stock:MUG-1", "stock:MUG-1", "stock:MUG-1", "stock:PLATE-1"])

            #expect(try await shop.events(topics: "stock:PLATE-1") == all.filter { $0.topic == "stock:PLATE-1" })
            #expect(try await shop.events(topics: "stock:NOPE-1").isEmpty)
            #expect(try await shop.events(topics: "products") == all.filter { $0.topic.hasPrefix("product:") })
            #expect(try await shop.events(topics: "locations").map(\.type) == ["location.created"])
            #expect(try await shop.events(topics: "stock:MUG-1,locations") == all.filter { $0.topic == "stock:MUG-1" || $0.topic == "locations" })
            let since = stock[1].seq
            #expect(try await shop.events(since: since, topics: "stock") == Array(stock.dropFirst(2)))
        }
    }

    @Test func sinceNextCursorPagesThroughTheLogOnce() async throws {
        try await withShop { shop in
            _ = try await makeHistory(shop)
            let all = try await shop.events()
            var seen: [EventBody] = []
            var since: Int64 = 0
            var pages = 0
            while true {
                let page = try await shop.send("GET", "/v1/events?since=\(since)&limit=2").decoded(PageBody<EventBody>.self)
                seen += page.items
                pages += 1
                try #require(pages <= all.count)
                guard let next = page.nextCursor else { break }
                since = try #require(Int64(next))
            }
            #expect(seen == all)
            #expect(pages == (all.count + 1) / 2)
        }
    }

    /// `GET /v1/events` answers in the list shape, so a client that follows `next_cursor` with
    /// `?cursor=` (API.md, Lists) must reach the end of the log, not get the first page again.
    @Test func cursorNextCursorPagesThroughTheLogOnce() async throws {
        try await withShop { shop in
            _ = try await makeHistory(shop)
            let all = try await shop.events()
            var seen: [EventBody] = []
            var cursor: String?
            var pages = 0
            repeat {
                let response = try await shop.send("GET", "/v1/events?limit=4" + (cursor.map { "&cursor=\($0)" } ?? ""))
                try #require(response.status == 200)
                let page = try response.decoded(PageBody<EventBody>.self)
                seen += page.items
                cursor = page.nextCursor
                pages += 1
                try #require(pages <= all.count, "next_cursor never ends the list: \(seen.count) events read for \(all.count)")
            } while cursor != nil
            #expect(seen == all)
        }
    }

    @Test func lowStockIsAnnouncedOnceWhenAvailabilityFallsToTheThreshold() async throws {
        try await withShop { shop in
            try await shop.createProduct(makeProductJSON(threshold: 3))
            let before = try await shop.lastSeq()
            for delta in [5, -2, -1, 4, -4] {
                #expect(try await shop.adjust("MUG-1", delta: delta, reason: delta > 0 ? "received" : "sold_in_store").status == 200)
            }
            let events = try await shop.events(since: before)
            #expect(events.map(\.type) == [
                "stock.changed", "stock.changed", "stock.low", "stock.changed", "stock.changed", "stock.changed", "stock.low",
            ])
            #expect(events[2].data == EventBody.Payload(sku: "MUG-1", available: 3, onHand: 3, reserved: 0, location: "main"))
            #expect(events.allSatisfy { $0.topic == "stock:MUG-1" })
        }
    }

    @Test func importAnnouncesEachProductBeforeItsStock() async throws {
        try await withShop { shop in
            let products = [
                makeProductJSON(title: "One", skus: ["A-1"], initialStock: ["main": 2]),
                makeProductJSON(title: "Two", skus: ["B-1"]),
            ]
            let response = try await shop.send("POST", "/v1/products/import", json: #"{"products":[\#(products.joined(separator: ","))]}"#)
            #expect(response.status == 201)
            let events = try await shop.events()
            #expect(events.map(\.type) == ["product.created", "stock.changed", "product.created"])
            #expect(events[0].data.title == "One")
            #expect(events[0].data.id.map { "product:\($0)" } == events[0].topic)
            #expect(events[1].data.onHand == 2)
            #expect(events[1].topic == "stock:A-1")
        }
    }

    /// A stocktake that finds the count already recorded changes nothing: no movement, and no event.
    @Test func stocktakeThatMatchesTheRecordAnnouncesNothing() async throws {
        try await withShop { shop in
            try await shop.createProduct()
            #expect(try await shop.adjust("MUG-1", delta: 4).status == 200)
            let before = try await shop.lastSeq()
            let response = try await shop.send("PUT", "/v1/inventory/MUG-1/levels/main", json: #"{"on_hand":4}"#)
            #expect(response.status == 200)
            #expect(try await shop.send("GET", "/v1/inventory/MUG-1/movements").decoded(PageBody<StockMovement>.self).items.count == 1)
            #expect(try await shop.events(since: before).map(\.type) == [])
        }
    }

    @Test func emptyLogIsAnEmptyList() async throws {
        try await withShop { shop in
            let response = try await shop.send("GET", "/v1/events?since=0&topics=stock")
            #expect(response.status == 200)
            #expect(response.bodyText == #"{"items":[],"next_cursor":null}"#)
        }
    }

    @Test(arguments: [
        "since=-1", "since=abc", "since=1.5", "limit=0", "limit=201", "topics=has%20space", "topics=stock;drop",
        "topics=" + String(repeating: "a", count: 101),
        "topics=" + (0..<51).map { "t\($0)" }.joined(separator: ","),
    ])
    func invalidEventQueryIs400(_ query: String) async throws {
        try await withShop { shop in
            let response = try await shop.send("GET", "/v1/events?\(query)")
            #expect(response.status == 400)
            #expect(try response.problem.code == "invalid_request")
        }
    }
}
