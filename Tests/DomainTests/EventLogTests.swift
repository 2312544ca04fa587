import Synchronization
import Testing
@testable import ShopfloorDomain
import ShopfloorStorage

struct EventLogTests {
    @Test func subscribersGetCommittedEventsInOrderAndRolledBackOnesNever() async throws {
        let store = try TestDatabase()
        let log = try EventLog(database: store.database)
        let received = Mutex<[Int64]>([])
        _ = log.subscribe { event in received.withLock { $0.append(event.seq) } }
        let database = store.database
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    _ = try? await database.writer.write { connection in
                        try EventLog.append(connection, type: "test.event", topic: "test:\(index)", data: ["index": index])
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

    @Test func familyTopicsMatchTheirSpecificTopics() {
        let event = Event(seq: 1, type: "stock.changed", topic: "stock:MUG-1", at: "", data: "{}")
        #expect(event.matches("stock"))
        #expect(event.matches("stock:MUG-1"))
        #expect(!event.matches("stock:MUG-2"))
        #expect(Event(seq: 2, type: "product.created", topic: "product:p1", at: "", data: "{}").matches("products"))
    }
}
