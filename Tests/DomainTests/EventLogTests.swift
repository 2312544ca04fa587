import Synchronization
import Testing
@testable import ShopfloorDomain
import ShopfloorStorage

struct EventLogTests {
    @Test func subscribersGetCommittedEventsInOrderAndRolledBackOnesNever() async throws {
        let store = try TestDatabase()
        let log = try EventLog(stores: store.stores)
        let received = Mutex<[Int64]>([])
        _ = log.subscribe { event in received.withLock { $0.append(event.seq) } }
        let database = store.database
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    _ = try? await database.writer.write { connection in
                        try log.append(type: "test.event", topic: "test:\(index)", data: ["index": index], in: connection)
                        if index % 5 == 0 { throw CancellationError() }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seqs = received.withLock { $0 }
        #expect(seqs.count == 40)
        #expect(seqs == seqs.sorted())
        #expect(try log.read(since: 0, topics: [], limit: 100).map(\.seq) == seqs)
    }

    @Test func readsStopAtTheLastPublishedEvent() async throws {
        let store = try TestDatabase()
        let log = try EventLog(stores: store.stores)
        _ = try await store.database.writer.write { connection in
            try log.append(type: "test.one", topic: "test", data: ["n": 1], in: connection)
        }
        // A row with no `append`, so nothing publishes it: committed, and not to be read yet.
        _ = try await store.database.writer.write { connection in
            try connection.run("INSERT INTO events (type, topic, at, data) VALUES ('test.quiet', 'test', '2026-01-01T00:00:00Z', '{}')")
        }
        #expect(try log.read(since: 0, topics: [], limit: 10).map(\.type) == ["test.one"])
        #expect(try log.read(since: 0, through: 2, topics: [], limit: 10).map(\.type) == ["test.one", "test.quiet"])
        // The next append publishes it too, in order.
        _ = try await store.database.writer.write { connection in
            try log.append(type: "test.three", topic: "test", data: ["n": 3], in: connection)
        }
        #expect(try log.read(since: 0, topics: [], limit: 10).map(\.type) == ["test.one", "test.quiet", "test.three"])
        #expect(try log.read(since: 0, through: 1, topics: ["test"], limit: 10).map(\.seq) == [1])
    }

    @Test func pruneDeletesWhatIsOlderThanTheCutoffAndNothingElse() async throws {
        let store = try TestDatabase()
        let log = try EventLog(stores: store.stores)
        let published = Mutex<[Int64]>([])
        _ = log.subscribe { event in published.withLock { $0.append(event.seq) } }
        try await store.database.writer.write { connection in
            for at in ["2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z"] {
                try connection.run("INSERT INTO events (type, topic, at, data) VALUES ('test.old', 'test', ?, '{}')", [.text(at)])
            }
            try log.append(type: "test.fresh", topic: "test", data: ["n": 1], in: connection)
        }
        // Rows written without `append` are still published, in order, from the log itself.
        #expect(published.withLock { $0 } == [1, 2, 3])
        #expect(try await log.prune(olderThan: .seconds(86_400)) == 2)
        #expect(try log.read(since: 0, topics: [], limit: 10).map(\.type) == ["test.fresh"])
        #expect(try await log.prune(olderThan: .seconds(86_400)) == 0)

        try await store.database.writer.write { connection in
            _ = try connection.run("INSERT INTO events (type, topic, at, data) VALUES ('test.old', 'test', '2020-01-03T00:00:00Z', '{}')")
        }
        // A cutoff after every event: the whole log goes, the fresh event and the one out of order alike.
        #expect(try await log.prune(olderThan: .seconds(-3600)) == 2)
        #expect(try log.oldestSeq() == nil)
    }

    @Test func familyTopicsMatchTheirSpecificTopics() {
        let event = Event(seq: 1, type: "stock.changed", topic: "stock:MUG-1", at: "", data: "{}")
        #expect(event.matches("stock"))
        #expect(event.matches("stock:MUG-1"))
        #expect(!event.matches("stock:MUG-2"))
        #expect(Event(seq: 2, type: "product.created", topic: "product:p1", at: "", data: "{}").matches("products"))
    }

    /// Cart topics are read by `seq`, other topics through the topic index: each way finds exactly its events.
    @Test func readsASpecificTopicOrAFamilyWhateverTheIndex() async throws {
        let store = try TestDatabase()
        let log = try EventLog(stores: store.stores)
        try await store.database.writer.write { connection in
            for topic in ["cart:c1", "stock:MUG-1", "cart:c2", "cart:c1", "stock:MUG-2", "stock:MUG-1", "order:o1"] {
                try log.append(type: "test.event", topic: topic, data: ["topic": topic], in: connection)
            }
        }
        #expect(try log.read(since: 0, topics: ["cart:c1"], limit: 10).map(\.seq) == [1, 4])
        #expect(try log.read(since: 1, topics: ["cart:c1"], limit: 10).map(\.seq) == [4])
        #expect(try log.read(since: 0, topics: ["stock:MUG-1"], limit: 10).map(\.seq) == [2, 6])
        #expect(try log.read(since: 0, topics: ["stock:MUG-1"], limit: 1).map(\.seq) == [2])
        #expect(try log.read(since: 0, topics: ["order:o1"], limit: 10).map(\.seq) == [7])
        #expect(try log.read(since: 0, topics: ["carts"], limit: 10).map(\.seq) == [1, 3, 4])
        #expect(try log.read(since: 0, topics: ["cart:c2", "stock:MUG-2"], limit: 10).map(\.seq) == [3, 5])
    }
}
