import Foundation
@testable import ShopfloorDomain
import ShopfloorJSON
import Testing

/// The live cart against a temporary store and a manual clock: reservations follow every line write,
/// expiry returns them when the clock passes the deadline, and a write to an expired cart reserves again.
struct CartServiceTests {
    @Test func addingReservesAndAddingAgainMergesIntoTheLine() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let cart = try await shop.onlineCart()
        let once = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 2, customisation: nil)
        #expect(once.lines.map(\.quantity) == [2])
        #expect(once.totals.subtotal.amount == 2000)
        #expect(try shop.levels("MUG-1") == (5, 2))
        let engraving = try JSONParser.parse(Array(#"{"engrave":"Ada"}"#.utf8))
        let twice = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: engraving)
        #expect(twice.lines.count == 1)
        #expect(twice.lines[0].quantity == 3 && twice.lines[0].id == once.lines[0].id)
        #expect(twice.lines[0].customisation == engraving)
        #expect(try shop.levels("MUG-1") == (5, 3))
        #expect(try shop.cartEvents(cart.id) == ["cart.created", "cart.line_added", "cart.line_updated"])
        // What the write answered from memory is what the store now says.
        #expect(try shop.carts.cart(cart.id) == twice)
    }

    @Test func linesKeepTheOrderAddedAndUpdatesMoveTheReservation() async throws {
        let shop = try await TestShop()
        try await shop.stocked("A", "B")
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "B", quantity: 1, customisation: nil)
        let both = try await shop.carts.addLine(cart.id, sku: "A", quantity: 1, customisation: nil)
        #expect(both.lines.map(\.sku) == ["B", "A"])
        let line = try #require(both.lines.first { $0.sku == "A" })
        let up = try await shop.carts.updateLine(cart.id, line: line.id, quantity: 4, customisation: nil)
        #expect(up.lines.first { $0.sku == "A" }?.quantity == 4)
        #expect(try shop.levels("A") == (5, 4))
        let down = try await shop.carts.updateLine(cart.id, line: line.id, quantity: 1, customisation: nil)
        #expect(down.lines.first { $0.sku == "A" }?.quantity == 1)
        #expect(try shop.levels("A") == (5, 1))
        let removed = try await shop.carts.removeLine(cart.id, line: line.id)
        #expect(removed.lines.map(\.sku) == ["B"])
        #expect(try shop.levels("A") == (5, 0))
        #expect(try shop.carts.cart(cart.id) == removed)
        await #expect(throws: CartError.lineNotFound(line.id.rawValue)) {
            try await shop.carts.removeLine(cart.id, line: line.id)
        }
    }

    @Test func aShortageChangesNothing() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", units: 2)
        let cart = try await shop.onlineCart()
        await #expect(throws: InventoryError.insufficientStock(sku: "MUG-1", available: 2)) {
            try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 3, customisation: nil)
        }
        #expect(try shop.carts.cart(cart.id)?.lines.isEmpty == true)
        #expect(try shop.levels("MUG-1") == (2, 0))
    }

    @Test func aCartExpiresWhenTheClockPassesItsDeadlineAndNotBefore() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 2, customisation: nil)
        shop.clock.advance(by: TestShop.ttl - .seconds(1))
        await shop.carts.expireDue()
        #expect(try shop.carts.cart(cart.id)?.status == .active)
        shop.clock.advance(by: .seconds(1))
        await shop.carts.expireDue()
        #expect(try shop.carts.cart(cart.id)?.status == .expired)
        #expect(try shop.levels("MUG-1") == (5, 0))
        #expect(try shop.cartEvents(cart.id).last == "cart.expired")
    }

    @Test func aWriteMovesTheDeadlineOn() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        shop.clock.advance(by: .seconds(600))
        let touched = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        #expect(touched.expiresAt == Timestamp.string(shop.clock.after(TestShop.ttl)))
        shop.clock.advance(by: .seconds(400))  // past the first deadline, not the second
        await shop.carts.expireDue()
        #expect(try shop.carts.cart(cart.id)?.status == .active)
        #expect(try shop.levels("MUG-1") == (5, 2))
        shop.clock.advance(by: .seconds(500))
        await shop.carts.expireDue()
        #expect(try shop.carts.cart(cart.id)?.status == .expired)
        #expect(try shop.levels("MUG-1") == (5, 0))
    }

    @Test func aWriteToAnExpiredCartReservesItsLinesAgain() async throws {
        let shop = try await TestShop()
        try await shop.stocked("A", "B")
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "A", quantity: 2, customisation: nil)
        shop.clock.advance(by: TestShop.ttl)
        await shop.carts.expireDue()
        #expect(try shop.levels("A") == (5, 0))
        let back = try await shop.carts.addLine(cart.id, sku: "B", quantity: 1, customisation: nil)
        #expect(back.status == .active)
        #expect(back.lines.map(\.quantity) == [2, 1])
        #expect(try shop.levels("A") == (5, 2))
        #expect(try shop.levels("B") == (5, 1))
        #expect(try shop.carts.cart(cart.id) == back)
    }

    /// The 409 of a failed reactivation says what the cart could have: measured with its own units
    /// released, not while the reactivation still held them.
    @Test func aFailedReactivationReportsWhatIsFreeWithoutTheCartsOwnUnits() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1", units: 2)
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 2, customisation: nil)
        shop.clock.advance(by: TestShop.ttl)
        await shop.carts.expireDue()
        await #expect(throws: InventoryError.insufficientStock(sku: "MUG-1", available: 2)) {
            try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        }
        #expect(try shop.carts.cart(cart.id)?.status == .expired)
        #expect(try shop.levels("MUG-1") == (2, 0))
    }

    @Test func deletingReturnsTheUnitsAndClosesTheCart() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 3, customisation: nil)
        try await shop.carts.delete(cart.id)
        #expect(try shop.levels("MUG-1") == (5, 0))
        #expect(try shop.carts.cart(cart.id)?.status == .deleted)
        await #expect(throws: CartError.closed(id: cart.id.rawValue, status: .deleted)) {
            try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        }
    }

    @Test func theLastUnitLandsInExactlyOneCart() async throws {
        let shop = try await TestShop()
        try await shop.stocked("ONE", units: 1)
        var carts: [CartID] = []
        for _ in 0..<8 { carts.append(try await shop.onlineCart().id) }
        let won = await withTaskGroup(of: Bool.self) { group in
            for id in carts {
                group.addTask { (try? await shop.carts.addLine(id, sku: "ONE", quantity: 1, customisation: nil)) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(won == 1)
        #expect(try shop.levels("ONE") == (1, 1))
    }

    @Test func recoveryReleasesWhatClosedCartsStillHoldAndSchedulesTheRest() async throws {
        let shop = try await TestShop()
        try await shop.stocked("MUG-1")
        let cart = try await shop.onlineCart()
        _ = try await shop.carts.addLine(cart.id, sku: "MUG-1", quantity: 1, customisation: nil)
        // A second service on the same store, as after a restart: it knows of no deadline until it recovers.
        let restarted = CartService(stores: shop.store.stores, events: shop.events, stock: shop.stock, pricing: shop.pricing,
                                    reservationTTL: TestShop.ttl, clock: shop.clock)
        shop.clock.advance(by: TestShop.ttl)
        await restarted.expireDue()
        #expect(try restarted.cart(cart.id)?.status == .active)
        try await restarted.recover()
        await restarted.expireDue()
        #expect(try restarted.cart(cart.id)?.status == .expired)
        #expect(try shop.levels("MUG-1") == (5, 0))
    }
}
