import Foundation
import ShopfloorAPI
import ShopfloorDomain
import ShopfloorStorage
import ShopfloorTesting
import Testing
import TransportTesting

/// The live cart over HTTP: who may do what, the problems it answers with, and free JSON kept as sent.
struct CartRoutesTests {
    private struct CartBody: Decodable {
        var id: String
        var status: String
        var lines: [Line]
        struct Line: Decodable {
            var id: String
            var sku: String
            var quantity: Int
        }
    }

    private struct StockProblem: Decodable {
        var status: Int
        var code: String
        var available: Int?
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: TestHTTPResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body))
    }

    @Test func onlineCartsArePublicAndPosCartsNeedATillOrAdminKey() async throws {
        try await withShop { shop in
            let keys = try await shop.issueCallerKeys()
            let expected: [Caller: Int] = [.anonymous: 401, .storefront: 403, .pos: 201, .admin: 201]
            for caller in Caller.allCases {
                let online = try await shop.send("POST", "/v1/carts", key: keys[caller] ?? nil, json: #"{"channel":"online"}"#)
                #expect(online.status == 201, "online cart as \(caller)")
                let location = caller == .admin ? #","location":"main""# : ""
                let pos = try await shop.send("POST", "/v1/carts", key: keys[caller] ?? nil, json: #"{"channel":"pos"\#(location)}"#)
                #expect(pos.status == expected[caller], "pos cart as \(caller)")
            }
            let listing = try await shop.send("GET", "/v1/carts?status=active", key: keys[.pos] ?? nil)
            #expect(listing.status == 403)
        }
    }

    @Test func lastUnitIsRefusedWithTheTrueAvailability() async throws {
        try await withShop { shop in
            _ = try await shop.createProduct(makeProductJSON(skus: ["ONE-1"], initialStock: ["main": 1]))
            let first = try decode(CartBody.self, try await shop.send("POST", "/v1/carts", key: nil, json: #"{"channel":"online"}"#))
            let second = try decode(CartBody.self, try await shop.send("POST", "/v1/carts", key: nil, json: #"{"channel":"online"}"#))
            let won = try await shop.send("POST", "/v1/carts/\(first.id)/lines", key: nil, json: #"{"sku":"ONE-1","quantity":1}"#)
            #expect(won.status == 200)
            let lost = try await shop.send("POST", "/v1/carts/\(second.id)/lines", key: nil, json: #"{"sku":"ONE-1","quantity":1}"#)
            let problem = try decode(StockProblem.self, lost)
            #expect(problem.status == 409 && problem.code == "insufficient_stock" && problem.available == 0)
            #expect(try decode(CartBody.self, try await shop.send("GET", "/v1/carts/\(second.id)", key: nil)).lines.isEmpty)
        }
    }

    /// Line writes answer from the cart as memory holds it, not from a read of the store: every answer
    /// must still be byte for byte what a read says, across a price change, checkout details, a
    /// removal and a line added again.
    @Test func lineWriteAnswersAreWhatAReadSays() async throws {
        try await withShop { shop in
            let product = try await shop.createProduct(makeProductJSON(skus: ["MEM-1", "MEM-2"], initialStock: ["main": 50]))
            let cart = try decode(CartBody.self, try await shop.send("POST", "/v1/carts", key: nil, json: #"{"channel":"online"}"#))
            func agreed(_ response: TestHTTPResponse, _ step: String) async throws -> CartBody {
                #expect(response.status == 200, "\(step): \(response.bodyText)")
                let read = try await shop.send("GET", "/v1/carts/\(cart.id)", key: nil)
                #expect(response.bodyText == read.bodyText, "\(step)")
                return try decode(CartBody.self, response)
            }
            let lines = "/v1/carts/\(cart.id)/lines"
            _ = try await agreed(try await shop.send("POST", lines, key: nil, json: #"{"sku":"MEM-1","quantity":2,"customisation":{"b":1.50,"a":"x"}}"#), "add")
            var body = try await agreed(try await shop.send("POST", lines, key: nil, json: #"{"sku":"MEM-2","quantity":1}"#), "second line")
            let first = try #require(body.lines.first)

            #expect(try await shop.send("PATCH", "/v1/products/\(product.id)", json: #"{"title":"Red Mug","variants":[{"sku":"MEM-1","price":{"amount":1500,"currency":"GBP"}}]}"#).status == 200)
            let repriced = try await shop.send("PATCH", "\(lines)/\(first.id)", key: nil, json: #"{"quantity":3}"#)
            _ = try await agreed(repriced, "after a price change")
            #expect(repriced.bodyText.contains(#""title":"Red Mug""#) && repriced.bodyText.contains(#""amount":4500"#))

            #expect(try await shop.send("PATCH", "/v1/carts/\(cart.id)", key: nil, json: #"{"email":"ada@example.com"}"#).status == 200)
            let after = try await shop.send("POST", lines, key: nil, json: #"{"sku":"MEM-2","quantity":1}"#)
            _ = try await agreed(after, "after checkout details")
            #expect(after.bodyText.contains("ada@example.com"))

            _ = try await agreed(try await shop.send("DELETE", "\(lines)/\(first.id)", key: nil), "remove")
            body = try await agreed(try await shop.send("POST", lines, key: nil, json: #"{"sku":"MEM-1","quantity":1}"#), "add again")
            #expect(body.lines.map(\.sku) == ["MEM-2", "MEM-1"])
            #expect(body.lines.map(\.quantity) == [2, 1])
        }
    }

    /// Removing a line deletes its reservation rows at every location: those the cart holds in memory
    /// (each by its key) and one it does not know of, as a row left by hand or by an older version.
    @Test func removingALineDeletesEveryReservationRowOfItsSKU() async throws {
        try await withShop { shop in
            try await shop.createLocation(code: "north", fulfilsOnline: true)
            // Made first: a new location makes every cart forget what it holds, which would hide the case.
            let south = try await shop.createLocation(code: "south")
            _ = try await shop.createProduct(makeProductJSON(skus: ["ROWS-1"]))
            #expect(try await shop.adjust("ROWS-1", delta: 3, location: "main").status == 200)
            #expect(try await shop.adjust("ROWS-1", delta: 2, location: "north").status == 200)
            let cart = try decode(CartBody.self, try await shop.send("POST", "/v1/carts", key: nil, json: #"{"channel":"online"}"#))
            let lines = "/v1/carts/\(cart.id)/lines"
            let added = try decode(CartBody.self, try await shop.send("POST", lines, key: nil, json: #"{"sku":"ROWS-1","quantity":4}"#))
            let line = try #require(added.lines.first)
            let database = shop.server.application.database
            func rows() throws -> [String: Int] {
                try database.readers.read { connection in
                    var rows: [String: Int] = [:]
                    try connection.forEachRow("SELECT location_id, quantity FROM reservations WHERE cart_id = ?", [.text(cart.id)]) { row in
                        rows[row.text(0)] = row.int(1)
                    }
                    return rows
                }
            }
            #expect(try rows().count == 2)
            // Held at both locations; a third row, at a location the cart never reserved from, it does not know of.
            _ = try await database.writer.write { connection in
                try connection.run("INSERT INTO reservations (cart_id, sku, location_id, quantity) VALUES (?, 'ROWS-1', ?, 1)",
                                   [.text(cart.id), .text(south.id.rawValue)])
            }
            #expect(try rows().count == 3)
            #expect(try await shop.send("DELETE", "\(lines)/\(line.id)", key: nil).status == 200)
            #expect(try rows().isEmpty)
        }
    }

    /// A cart remembers where its units are held; releasing part of a line over two locations takes
    /// from the one holding most, and the store's numbers follow memory's exactly.
    @Test func partReleasesOverTwoLocationsTakeFromTheLargestHolding() async throws {
        struct Level: Decodable {
            var reserved: Int
            var locations: [At]
            struct At: Decodable, Equatable {
                var location: String
                var reserved: Int
            }
        }
        try await withShop { shop in
            try await shop.createLocation(code: "north", fulfilsOnline: true)
            _ = try await shop.createProduct(makeProductJSON(skus: ["SPLIT-1"]))
            #expect(try await shop.adjust("SPLIT-1", delta: 3, location: "main").status == 200)
            #expect(try await shop.adjust("SPLIT-1", delta: 2, location: "north").status == 200)
            let cart = try decode(CartBody.self, try await shop.send("POST", "/v1/carts", key: nil, json: #"{"channel":"online"}"#))
            func reserved() async throws -> [String: Int] {
                let level = try await shop.send("GET", "/v1/inventory/SPLIT-1").decoded(Level.self)
                return Dictionary(uniqueKeysWithValues: level.locations.map { ($0.location, $0.reserved) })
            }
            let lines = "/v1/carts/\(cart.id)/lines"
            let added = try decode(CartBody.self, try await shop.send("POST", lines, key: nil, json: #"{"sku":"SPLIT-1","quantity":4}"#))
            let line = try #require(added.lines.first)
            #expect(try await reserved() == ["main": 3, "north": 1])
            #expect(try await shop.send("PATCH", "\(lines)/\(line.id)", key: nil, json: #"{"quantity":2}"#).status == 200)
            #expect(try await reserved() == ["main": 1, "north": 1])
            #expect(try await shop.send("PATCH", "\(lines)/\(line.id)", key: nil, json: #"{"quantity":5}"#).status == 200)
            #expect(try await reserved() == ["main": 3, "north": 2])
            #expect(try await shop.send("PATCH", "\(lines)/\(line.id)", key: nil, json: #"{"quantity":1}"#).status == 200)
            #expect(try await reserved() == ["main": 0, "north": 1])
            #expect(try await shop.send("DELETE", "\(lines)/\(line.id)", key: nil).status == 200)
            #expect(try await reserved() == ["main": 0, "north": 0])
        }
    }

    @Test func customisationComesBackExactlyAsSent() async throws {
        try await withShop { shop in
            _ = try await shop.createProduct(makeProductJSON(skus: ["ENG-1"], initialStock: ["main": 3]))
            let cart = try decode(CartBody.self, try await shop.send("POST", "/v1/carts", key: nil, json: #"{"channel":"online"}"#))
            let body = #"{"sku":"ENG-1","quantity":1,"customisation":{"gift_note":"For Ann","guestList":["a","b"],"z":1,"a":2}}"#
            let added = try await shop.send("POST", "/v1/carts/\(cart.id)/lines", key: nil, json: body)
            #expect(added.status == 200)
            #expect(String(decoding: added.body, as: UTF8.self).contains(#""customisation":{"gift_note":"For Ann","guestList":["a","b"],"z":1,"a":2}"#))
        }
    }

    @Test func badLinesAreRefusedAndChangeNothing() async throws {
        try await withShop { shop in
            _ = try await shop.createProduct(makeProductJSON(skus: ["BAD-1"], initialStock: ["main": 5]))
            let cart = try decode(CartBody.self, try await shop.send("POST", "/v1/carts", key: nil, json: #"{"channel":"online"}"#))
            let cases: [(String, Int, String?)] = [
                (#"{"sku":"NOPE","quantity":1}"#, 404, nil),
                (#"{"sku":"BAD-1","quantity":0}"#, 422, "quantity"),
                (#"{"sku":"BAD-1","quantity":10001}"#, 422, "quantity"),
                (#"{"sku":"BAD-1","quantity":1.5}"#, 422, "quantity"),
                (#"{"sku":"BAD-1","quantity":1,"customisation":"text"}"#, 422, "customisation"),
                // Bodies the plain reading does not take go through JSONDecoder and name their field.
                (#"{"sku":"BAD-1","quantity":"1"}"#, 422, "quantity"),
                (#"{"sku":"BAD-1","quantity":null}"#, 422, "quantity"),
                (#"{"quantity":1}"#, 422, "sku"),
                (#"{"sku":7,"quantity":1}"#, 422, "sku"),
                (#"{"sku":"BAD-1","quantity":99999999999999999999}"#, 422, "quantity"),
                (#"[{"sku":"BAD-1","quantity":1}]"#, 422, nil),
            ]
            for (body, status, field) in cases {
                let response = try await shop.send("POST", "/v1/carts/\(cart.id)/lines", key: nil, json: body)
                #expect(response.status == status, "\(body)")
                if let field { #expect(try decode(ProblemBody.self, response).errors?.first?.field == field, "\(body)") }
            }
            let level = try await shop.send("GET", "/v1/inventory/BAD-1")
            #expect(String(decoding: level.body, as: UTF8.self).contains(#""reserved":0"#))
            #expect(try await shop.send("DELETE", "/v1/carts/\(cart.id)", key: nil).status == 204)
            let closed = try await shop.send("POST", "/v1/carts/\(cart.id)/lines", key: nil, json: #"{"sku":"BAD-1","quantity":1}"#)
            #expect(closed.status == 409)
            #expect(try await shop.send("GET", "/v1/carts/cart_unknown", key: nil).status == 404)
        }
    }
}

/// A field named `…ID` in Swift is named as the client sent it in a 422.
struct IdentifierFieldErrorTests {
    @Test func anIdentifierFieldIsNamedInSnakeCase() async throws {
        try await withShop { shop in
            let response = try await shop.send("POST", "/v1/carts", json: #"{"channel":"online","customer_id":5}"#)
            #expect(response.status == 422)
            #expect(try response.problem.errors?.map(\.field) == ["customer_id"])
        }
    }
}
