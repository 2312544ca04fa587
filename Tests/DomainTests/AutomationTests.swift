import Foundation
import ShopfloorJSON
import Synchronization
import Testing
@testable import ShopfloorDomain

/// Flow definitions and positions, caps and quiet hours, the durable scheduler, and the engine's
/// entries and A/B splits, on a real store with a manual clock.
struct AutomationTests {
    static let gbp = Currency("GBP")!
    static let templates = Set(MessageTemplates.names)

    static func json(_ text: String) -> JSONValue {
        try! JSONParser.parse(Array(text.utf8))
    }

    static func parse(_ text: String) throws -> FlowDefinition {
        try FlowDefinition.parse(json(text), templates: templates, currency: gbp)
    }

    static func fields(of text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch let error as ValidationError {
            return error.errors.map(\.field)
        } catch {
            return ["\(error)"]
        }
    }

    // MARK: Definitions

    @Test func definitionsParseEveryStepKind() throws {
        let definition = try Self.parse("""
            {"trigger":{"type":"cart.abandoned","after":"2h"},"exit_on":["order.placed","shopper.live"],"steps":[
              {"send":{"channel":"push","template":"abandoned_cart","fallback":["sms","email"],"window":"1h","timeout":"30m"}},
              {"wait":"3h"},
              {"if":{"tag":"vip"},"then":[{"offer":{"kind":"percent","value":15,"expires_in":"2d"}}],"else":[]},
              {"split":[{"weight":70,"steps":[{"task":{"text":"Call them"}}]},{"weight":30,"steps":[]}]},
              {"offer":{"kind":"fixed","value":{"amount":500,"currency":"GBP"},"expires_in":"1d"}},
              {"offer":{"kind":"free_shipping","expires_in":"1d"}}]}
            """)
        #expect(definition.trigger == .cartAbandoned(after: 7200, channel: .online))
        #expect(definition.exitOn == [.orderPlaced, .shopperLive])
        #expect(definition.steps[0] == .send(SendStep(channels: [.push, .sms, .email], template: "abandoned_cart", transactional: false,
                                                      window: 3600, timeout: 1800)))
        #expect(definition.steps[1] == .wait(seconds: 10_800))
        #expect(definition.steps[4] == .offer(OfferStep(kind: .fixed, value: 500, currency: Self.gbp, expiresIn: 86_400)))
        #expect(definition.allSteps.map { FlowDefinition.name(of: $0.path) } == ["0", "1", "2", "2.0.0", "3", "3.0.0", "4", "5"])
    }

    @Test func badDefinitionsNameEveryFailingMember() {
        #expect(Self.fields(of: #"{"trigger":{"type":"cart.left"},"steps":[{"wait":"1h"}]}"#) == ["trigger.type"])
        #expect(Self.fields(of: #"{"trigger":{"type":"order.placed","after":"1h"},"steps":[{"wait":"1h"}]}"#) == ["trigger.after"])
        #expect(Self.fields(of: #"{"trigger":{"type":"order.placed"},"steps":[]}"#) == ["steps"])
        let fields = Self.fields(of: """
            {"trigger":{"type":"order.placed"},"exit_on":["order.paid"],"steps":[
              {"send":{"channel":"fax","template":"nope"}},
              {"wait":"soon"},
              {"send":{"channel":"sms","template":"abandoned_cart","fallback":["sms"]}},
              {"offer":{"kind":"percent","value":150}},
              {"split":[{"weight":1,"steps":[]}]},
              {"task":{"text":""}},
              {"wait":"1h","send":{}},
              {"nap":"1h"}]}
            """)
        for field in ["exit_on[0]", "steps[0].send.channel", "steps[0].send.template", "steps[1].wait", "steps[2].send.fallback",
                      "steps[3].offer.value", "steps[3].offer.expires_in", "steps[4].split", "steps[5].task.text", "steps[6]", "steps[7]"] {
            #expect(fields.contains(field), "\(field) in \(fields)")
        }
        let deep = (0..<7).reduce(#"[{"wait":"1h"}]"#) { inner, _ in #"[{"if":{"tag":"x"},"then":\#(inner)}]"# }
        #expect(Self.fields(of: #"{"trigger":{"type":"order.placed"},"steps":\#(deep)}"#).contains { $0.hasSuffix(".then") })
        let many = Array(repeating: #"{"wait":"1h"}"#, count: 101).joined(separator: ",")
        #expect(Self.fields(of: #"{"trigger":{"type":"order.placed"},"steps":[\#(many)]}"#) == ["steps"])
    }

    @Test func positionsWalkIntoAndOutOfBranches() throws {
        let definition = try Self.parse("""
            {"trigger":{"type":"order.placed"},"steps":[
              {"wait":"1h"},
              {"if":{"tag":"vip"},"then":[{"wait":"1h"},{"wait":"2h"}],"else":[]},
              {"split":[{"weight":1,"steps":[{"wait":"3h"}]},{"weight":1,"steps":[]}]},
              {"wait":"4h"}]}
            """)
        #expect(definition.start == [0])
        #expect(definition.next(after: [0]) == [1])
        #expect(definition.enter(branch: 0, at: [1]) == [1, 0, 0])
        #expect(definition.next(after: [1, 0, 0]) == [1, 0, 1])
        #expect(definition.next(after: [1, 0, 1]) == [2])
        #expect(definition.enter(branch: 1, at: [1]) == [2], "an empty else goes on after the if")
        #expect(definition.enter(branch: 0, at: [2]) == [2, 0, 0])
        #expect(definition.variant(of: [2, 0, 0]) == 0)
        #expect(definition.variant(of: [1, 0, 0]) == nil)
        #expect(definition.next(after: [2, 0, 0]) == [3])
        #expect(definition.next(after: [3]) == nil)
        #expect(definition.step(at: [1, 0, 1]) == .wait(seconds: 7200))
        #expect(definition.step(at: [1, 5, 0]) == nil)
    }

    // MARK: Caps and quiet hours

    @Test func quietHoursEndAtTheirEndInTheCustomersZone() throws {
        let quiet = QuietHours.standard
        let london = try #require(TimeZone(identifier: "Europe/London"))
        let lateEvening = try #require(Timestamp.date("2026-12-07T22:30:00Z"))
        #expect(quiet.end(ofQuietAt: lateEvening, in: london) == Timestamp.date("2026-12-08T08:00:00Z"))
        let earlyMorning = try #require(Timestamp.date("2026-12-08T06:15:00Z"))
        #expect(quiet.end(ofQuietAt: earlyMorning, in: london) == Timestamp.date("2026-12-08T08:00:00Z"))
        #expect(quiet.end(ofQuietAt: try #require(Timestamp.date("2026-12-08T12:00:00Z")), in: london) == nil)
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        // 12:30 UTC is 21:30 in Tokyo: quiet until 08:00 there, 23:00 UTC.
        #expect(quiet.end(ofQuietAt: try #require(Timestamp.date("2026-12-08T12:30:00Z")), in: tokyo) == Timestamp.date("2026-12-08T23:00:00Z"))
        let lunch = QuietHours(start: "12:00", end: "13:00")
        #expect(lunch.end(ofQuietAt: try #require(Timestamp.date("2026-12-08T12:10:00Z")), in: .gmt) == Timestamp.date("2026-12-08T13:00:00Z"))
        #expect(QuietHours.minutes("24:00") == nil && QuietHours.minutes("7:00") == nil && QuietHours.minutes("07:05") == 425)
    }

    @Test func capsHoldEachChannelApartAndQuietHoursComeOnTop() throws {
        let pace = MarketingPace(emailCapHours: 16, smsCapHours: 24, pushCapHours: 24, quietHours: .standard)
        let now = try #require(Timestamp.date("2026-12-08T10:00:00Z"))
        #expect(pace.earliest(.email, now: now, lastMarketing: nil, timeZone: .gmt).hold == nil)
        let email = pace.earliest(.email, now: now, lastMarketing: now.addingTimeInterval(-3600), timeZone: .gmt)
        #expect(email.at == now.addingTimeInterval(15 * 3600) && email.hold == .capped)
        // The last SMS is due at 22:00 today, so this one is capped until 22:00 tomorrow, which is quiet: it waits for 08:00 the day after.
        let sms = pace.earliest(.sms, now: now, lastMarketing: now.addingTimeInterval(12 * 3600), timeZone: .gmt)
        #expect(sms.at == Timestamp.date("2026-12-10T08:00:00Z") && sms.hold == .capped)
        let quietEmail = MarketingPace(emailCapHours: 0, smsCapHours: 0, pushCapHours: 0, quietHours: .standard)
            .earliest(.email, now: try #require(Timestamp.date("2026-12-08T23:00:00Z")), lastMarketing: nil, timeZone: .gmt)
        #expect(quietEmail.hold == nil, "email is not held by quiet hours")
    }

    // MARK: Scheduler

    /// A handler's effect is an event in its timer's transaction: what committed is what fired (a
    /// job may run twice inside the writer when its batch is retried, so memory would over-count).
    @Test func timersFireInDueOrderOnceAndFailedOnesAgainAMinuteLater() async throws {
        let database = try TestDatabase()
        let clock = ManualClock()
        let events = try EventLog(stores: database.stores, clock: clock)
        let scheduler = Scheduler(stores: database.stores, clock: clock)
        // Fails until the test says otherwise, however the writer batches it (in a batch and again on
        // its own, or alone once), so it is postponed.
        let failing = Mutex(true)
        let note: Scheduler.Handler = { timer, transaction in
            try events.append(type: "test.fired", topic: "test", data: ["ref": timer.ref], in: transaction)
        }
        scheduler.register("note", handler: note)
        scheduler.register("flaky") { timer, transaction in
            if failing.withLock({ $0 }) { throw StoreError.duplicate(constraint: "test") }
            try note(timer, transaction)
        }
        func fired() throws -> [String] {
            try events.read(since: 0, through: .max, topics: ["test"], limit: 100).map { event in
                guard case .object(let members, _) = try JSONParser.parse(Array(event.data.utf8)), case .string(let ref)? = members["ref"] else { return "?" }
                return ref
            }
        }
        let now = clock.milliseconds
        try await database.stores.writer.write { transaction in
            try scheduler.schedule("note", key: "c", ref: "third", at: now + 3000, in: transaction)
            try scheduler.schedule("note", key: "a", ref: "first", at: now + 1000, in: transaction)
            try scheduler.schedule("note", key: "b", ref: "second", at: now + 2000, in: transaction)
            try scheduler.schedule("note", key: "later", ref: "later", at: now + 100_000, in: transaction)
            try scheduler.schedule("flaky", key: "f", ref: "flaky", at: now + 2500, in: transaction)
            #expect(try !scheduler.scheduleIfAbsent("note", key: "a", ref: "again", at: now, in: transaction))
        }
        #expect(await scheduler.fireDue() == 0)
        clock.advance(by: .seconds(5))
        #expect(await scheduler.fireDue() == 3)
        #expect(try fired() == ["first", "second", "third"])
        // The clock jumps past the failed timer's retry (a minute on) and the far one: both fire, in due order.
        failing.withLock { $0 = false }
        clock.advance(by: .seconds(120))
        #expect(await scheduler.fireDue() == 2)
        #expect(try fired() == ["first", "second", "third", "flaky", "later"])
        #expect(await scheduler.fireDue() == 0)
    }

    @Test func aMovedOrCancelledTimerIsNotFiredFromAnEarlierRead() async throws {
        let database = try TestDatabase()
        let clock = ManualClock()
        let scheduler = Scheduler(stores: database.stores, clock: clock)
        let fired = Mutex(0)
        scheduler.register("note") { _, _ in fired.withLock { $0 += 1 } }
        let now = clock.milliseconds
        try await database.stores.writer.write { transaction in
            try scheduler.schedule("note", key: "moved", ref: "m", at: now, in: transaction)
            try scheduler.schedule("note", key: "gone", ref: "g", at: now, in: transaction)
        }
        let read = try database.stores.timers.due(at: now, limit: 10)
        #expect(read.count == 2)
        try await database.stores.writer.write { transaction in
            try scheduler.schedule("note", key: "moved", ref: "m", at: now + 10_000, in: transaction)
            try scheduler.cancel("gone", in: transaction)
            for timer in read { #expect(try !database.stores.timers.take(timer, in: transaction)) }
        }
        #expect(await scheduler.fireDue() == 0 && fired.withLock { $0 } == 0)
        clock.advance(by: .seconds(10))
        #expect(await scheduler.fireDue() == 1)
    }

    // MARK: Engine

    @Test func aSplitSendsEntriesNearItsWeights() async throws {
        let shop = try await TestShop()
        let scheduler = Scheduler(stores: shop.store.stores, clock: shop.clock)
        let engine = try FlowEngine(
            stores: shop.store.stores, events: shop.events, messages: shop.messages, pricing: shop.pricing, live: shop.live, scheduler: scheduler,
            currency: Self.gbp, reservationTTL: TestShop.ttl, shopName: "Test Shop", publicURL: "https://shop.example", clock: shop.clock)
        let flows = FlowService(stores: shop.store.stores, engine: engine, events: shop.events, messages: shop.messages, currency: Self.gbp, clock: shop.clock)
        let document = Self.json("""
            {"split":[{"weight":70,"steps":[{"wait":"1h"}]},{"weight":30,"steps":[{"wait":"2h"}]}]}
            """)
        let flow = try await flows.create(.init(name: "AB", status: .active, trigger: Self.json(#"{"type":"customer.created"}"#),
                                                steps: .array([document]), exitOn: nil))
        for index in 0..<1_000 {
            _ = try await shop.customers.create(.init(email: "ab\(index)@example.com"), source: "admin")
        }
        try await engine.processPending()
        let stats = try flows.stats(of: flow.id)
        #expect(stats.entered == 1_000)
        let first = stats.steps.first { $0.step == "0.0.0" }?.counters["entered"] ?? 0
        let second = stats.steps.first { $0.step == "0.1.0" }?.counters["entered"] ?? 0
        #expect(first + second == 1_000)
        // Three standard deviations of a binomial(1000, 0.7): 43.
        #expect(abs(first - 700) <= 45, "\(first) of 1000 took the 70 % arm")
        #expect(stats.steps.first { $0.step == "0.1.0" }?.variant == 1)
        // An hour on, the 70 % arm's runs complete; the rest wait an hour more.
        shop.clock.advance(by: .seconds(3601))
        await scheduler.fireDue()
        #expect(try flows.runs(of: flow.id, status: .completed, limit: 200, before: nil).items.count == 200)
        #expect(try shop.store.stores.flows.runs(of: flow.id, status: .completed, before: .max, limit: 2_000).count == Int(first))
    }
}

/// Tracked links: every link of a flow's message leads through a signed redirect, and its HTML part
/// carries a signed pixel.
struct TrackingLinksTests {
    static let links = TrackingLinks(secretsKey: Array(repeating: 7, count: 32), publicURL: "https://shop.example/")

    static func message(text: String, html: String?, link: String? = nil) -> Message {
        Message(id: MessageID(rawValue: "msg_test"), channel: .email, recipient: "ada@example.com", template: "abandoned_cart", subject: "Hi",
                text: text, html: html, link: link, status: .queued, attempts: 0, nextAttemptAt: nil, nextAttemptAtMilliseconds: nil,
                lastError: nil, skipReason: nil, customerID: nil, orderID: nil, transactional: false, createdAt: "", updatedAt: "", sentAt: nil)
    }

    @Test func everyLinkIsRewrittenAndSigned() throws {
        let id = MessageID(rawValue: "msg_test")
        let tracked = Self.links.tracked(Self.message(
            text: "Your basket: https://shop.example/shop/?cart=c1&x=1.\nNot https://shop.example.evil/x or http://other.example/a",
            html: #"<p><a href="https://shop.example/shop/?cart=c1&amp;x=1">Go</a> <a href="mailto:a@b">mail</a></p></body>"#,
            link: "https://shop.example/p"))
        let target = "https://shop.example/shop/?cart=c1&x=1"
        let click = Self.links.clickURL(id, target: target)
        #expect(click.hasPrefix("https://shop.example/v1/m/msg_test/click?url=https%3A%2F%2Fshop.example%2Fshop%2F%3Fcart%3Dc1%26x%3D1&sig="))
        #expect(tracked.text == "Your basket: \(click).\nNot https://shop.example.evil/x or http://other.example/a", "only the shop's own links")
        let html = try #require(tracked.html)
        #expect(html.contains(#"href="\#(click.replacingOccurrences(of: "&", with: "&amp;"))""#))
        #expect(html.contains(#"href="mailto:a@b""#), "only http links are tracked")
        #expect(html.hasSuffix(#"" width="1" height="1" alt=""></body>"#) && html.contains("/v1/m/msg_test/open?sig="))
        #expect(tracked.link == Self.links.clickURL(id, target: "https://shop.example/p"))
        let signature = try #require(click.components(separatedBy: "&sig=").last)
        #expect(Self.links.verifies(id, target: target, signature: signature))
        #expect(!Self.links.verifies(id, target: target + "x", signature: signature))
        #expect(!Self.links.verifies(MessageID(rawValue: "msg_other"), target: target, signature: signature))
        #expect(!Self.links.verifies(id, target: "", signature: signature))
        let other = TrackingLinks(secretsKey: Array(repeating: 8, count: 32), publicURL: "https://shop.example")
        #expect(!other.verifies(id, target: target, signature: signature))
    }
}

/// Replenishment: the interval formula, and a weekly run cut short that goes on from its cursor.
struct ReplenishmentTests {
    static let day: TimeInterval = 86_400

    static func purchases(_ days: [Double], quantities: [Int]? = nil) -> [ReplenishmentPlan.Purchase] {
        days.enumerated().map { index, day in
            ReplenishmentPlan.Purchase(at: Date(timeIntervalSince1970: 1_800_000_000 + day * Self.day), quantity: quantities?[index] ?? 1)
        }
    }

    @Test func theIntervalLeansOnTheProductUntilTheHistoryIsLong() throws {
        let two = try #require(ReplenishmentPlan.plan(Self.purchases([0, 30]), productIntervalDays: 60))
        #expect(two.intervalDays == 50 && two.due == Date(timeIntervalSince1970: 1_800_000_000 + 80 * Self.day))
        let ten = try #require(ReplenishmentPlan.plan(Self.purchases((0..<10).map { Double($0) * 14 }), productIntervalDays: 60))
        #expect(abs(ten.intervalDays - (2 * 60 + 9 * 14) / 11) < 1e-9)
        #expect(ReplenishmentPlan.plan(Self.purchases([0]), productIntervalDays: 60)?.intervalDays == 60)
        #expect(ReplenishmentPlan.plan(Self.purchases([0]), productIntervalDays: nil) == nil)
        #expect(ReplenishmentPlan.plan(Self.purchases([0, 20, 40]), productIntervalDays: nil)?.intervalDays == 20)
        // A holiday gap does not pull the median; two buys on one day are one purchase of both.
        let odd = try #require(ReplenishmentPlan.plan(Self.purchases([0, 10, 20, 90, 100], quantities: [2, 2, 3, 2, 2]), productIntervalDays: nil))
        #expect(odd.intervalDays == 10 && odd.quantity == 2)
        let sameDay = try #require(ReplenishmentPlan.plan(Self.purchases([0, 0.1, 30], quantities: [1, 2, 3]), productIntervalDays: nil))
        #expect(sameDay.intervalDays == 30 && sameDay.quantity == 3)
    }

    @Test func aRunCutShortGoesOnFromItsCursorAndProposesOncePerCustomer() async throws {
        let shop = try await TestShop()
        let stores = shop.store.stores
        let product = try await shop.catalogue.create(.make(skus: ["COF"], amount: 1000), actor: "test")
        _ = try await shop.inventory.adjust(sku: "COF", location: shop.main, delta: 100, reason: .received, actor: "test", note: nil)
        let scheduler = Scheduler(stores: stores, clock: shop.clock)
        let engine = try FlowEngine(
            stores: stores, events: shop.events, messages: shop.messages, pricing: shop.pricing, live: nil, scheduler: scheduler,
            currency: AutomationTests.gbp, reservationTTL: TestShop.ttl, shopName: "Test Shop", publicURL: "https://shop.example", clock: shop.clock)
        let links = ProposalLinks(secretsKey: Array(repeating: 1, count: 32), publicURL: "https://shop.example")
        func service() -> ReplenishmentService {
            ReplenishmentService(stores: stores, engine: engine, scheduler: scheduler, pricing: shop.pricing, links: links, schedule: .mondayMorning,
                                 batchSize: 2, clock: shop.clock)
        }
        let first = service()
        try await first.setInterval(60, of: product.id)
        func order(_ email: String) async throws {
            let cart = try await shop.onlineCart()
            _ = try await shop.carts.addLine(cart.id, sku: "COF", quantity: 1, customisation: nil)
            _ = try await shop.checkout.update(cart.id, with: .init(email: email, shippingAddress: TestShop.address))
            _ = try await shop.checkout.complete(cart.id, payment: PaymentRequest(method: "test_card", cardNumber: "4242424242424242"), payer: nil,
                                                 request: nil)
        }
        let emails = (0..<5).map { "buyer\($0)@example.com" }
        for email in emails { try await order(email) }
        shop.clock.advance(by: .seconds(30 * 86_400))
        for email in emails { try await order(email) }
        try await first.start()
        shop.clock.advance(by: .seconds(44 * 86_400))
        await scheduler.fireDue()
        await first.runPending(maxBatches: 1)
        #expect(try stores.replenishment.unfinishedRuns().map(\.customers) == [2])
        // A new instance, as after a restart, finishes the run from its cursor.
        let second = service()
        await second.runPending()
        #expect(try stores.replenishment.unfinishedRuns().isEmpty)
        let report = try second.report()
        #expect(report.counts[.open] == 5)
        // The timer firing again for the same day makes no second run.
        try await stores.writer.write { transaction in
            try scheduler.schedule("replenishment", key: "replenishment", ref: "", at: shop.clock.milliseconds, in: transaction)
        }
        await scheduler.fireDue()
        await second.runPending()
        #expect(try second.report().counts[.open] == 5)
    }
}
