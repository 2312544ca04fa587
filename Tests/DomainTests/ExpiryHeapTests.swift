import Testing
@testable import ShopfloorDomain

/// Entries in a total order (deadline, then cart), so two lists can be compared whatever order the
/// heap gave entries due at the same moment: it promises soonest first, nothing among ties.
private func canonical(_ entries: [ExpiryHeap.Entry]) -> [ExpiryHeap.Entry] {
    entries.sorted { ($0.at, $0.cart) < ($1.at, $1.cart) }
}

private func isSoonestFirst(_ entries: [ExpiryHeap.Entry]) -> Bool {
    zip(entries, entries.dropFirst()).allSatisfy { $0.at <= $1.at }
}

private func makeHeap(_ entries: [ExpiryHeap.Entry]) -> ExpiryHeap {
    var heap = ExpiryHeap()
    for entry in entries { heap.push(entry) }
    return heap
}

struct ExpiryHeapTests {
    /// Deadlines drawn from a small range, so many entries tie.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func popsEveryEntryInDeadlineOrderWhateverTheOrderPushed(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let entries = (0..<2_000).map { ExpiryHeap.Entry(at: Int64.random(in: 0..<300, using: &random), cart: "cart-\($0)") }
            .shuffled(using: &random)
        var heap = makeHeap(entries)
        #expect(heap.count == 2_000)

        let due = heap.popDue(now: .max)

        #expect(due.map(\.at) == entries.map(\.at).sorted())
        #expect(canonical(due) == canonical(entries))
        #expect(heap.count == 0)
    }

    @Test func popDueTakesEntriesDueAtNowAndLeavesLaterOnes() {
        var heap = makeHeap([.init(at: 30, cart: "c"), .init(at: 10, cart: "a"), .init(at: 20, cart: "b"), .init(at: 21, cart: "d")])

        #expect(heap.popDue(now: 9) == [])
        #expect(heap.popDue(now: 20) == [.init(at: 10, cart: "a"), .init(at: 20, cart: "b")])
        #expect(heap.count == 2)
        #expect(heap.popDue(now: 20) == [])
        #expect(heap.popDue(now: 30) == [.init(at: 21, cart: "d"), .init(at: 30, cart: "c")])
        #expect(heap.count == 0)
    }

    @Test func entriesWithTheSameDeadlineAllComeDueTogether() {
        let tied = (0..<7).map { ExpiryHeap.Entry(at: 50, cart: "tied-\($0)") }
        var heap = makeHeap(tied + [.init(at: 49, cart: "before"), .init(at: 51, cart: "after")])

        #expect(heap.popDue(now: 49) == [.init(at: 49, cart: "before")])
        #expect(canonical(heap.popDue(now: 50)) == canonical(tied))
        #expect(heap.popDue(now: 51) == [.init(at: 51, cart: "after")])
    }

    @Test func anEmptyHeapHasNothingDue() {
        var heap = ExpiryHeap()
        #expect(heap.count == 0)
        #expect(heap.popDue(now: .max) == [])

        heap.push(.init(at: 1, cart: "a"))
        #expect(heap.popDue(now: .max) == [.init(at: 1, cart: "a")])
        #expect(heap.popDue(now: .max) == [])
        #expect(heap.count == 0)
    }

    /// Lazy deletion: the heap does not know carts, so a second entry for a cart is a second entry.
    @Test func aCartPushedTwiceComesDueTwice() {
        var heap = makeHeap([.init(at: 10, cart: "a"), .init(at: 20, cart: "a")])
        #expect(heap.count == 2)
        #expect(heap.popDue(now: 20) == [.init(at: 10, cart: "a"), .init(at: 20, cart: "a")])
    }

    @Test func deadlinesAtTheEndsOfInt64KeepTheirOrder() {
        var heap = makeHeap([.init(at: .max, cart: "never"), .init(at: 0, cart: "epoch"), .init(at: .min, cart: "past")])

        #expect(heap.popDue(now: .min) == [.init(at: .min, cart: "past")])
        #expect(heap.popDue(now: .max - 1) == [.init(at: 0, cart: "epoch")])
        #expect(heap.popDue(now: .max) == [.init(at: .max, cart: "never")])
    }

    /// Random pushes and pops against a plain array: each pop returns exactly the model's due entries,
    /// soonest first, and the heap keeps the rest.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func interleavedPushesAndPopsMatchASortedModel(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var heap = ExpiryHeap()
        var model: [ExpiryHeap.Entry] = []
        var now: Int64 = 0
        for step in 0..<3_000 {
            if Int.random(in: 0..<3, using: &random) < 2 {
                // Mostly after now, as a TTL would put it; sometimes already due.
                let entry = ExpiryHeap.Entry(at: now + Int64.random(in: -5..<100, using: &random), cart: "cart-\(step)")
                heap.push(entry)
                model.append(entry)
            } else {
                now += Int64.random(in: 0..<40, using: &random)
                let due = heap.popDue(now: now)
                #expect(isSoonestFirst(due))
                #expect(canonical(due) == canonical(model.filter { $0.at <= now }))
                model.removeAll { $0.at <= now }
            }
            #expect(heap.count == model.count)
        }
        let rest = heap.popDue(now: .max)
        #expect(isSoonestFirst(rest))
        #expect(canonical(rest) == canonical(model))
    }
}
