import Foundation
import Synchronization
import Testing
@testable import ShopfloorDomain

/// The outbox on a temporary store and a manual clock: order messages queued in the order's own
/// transaction, delivery through a scripted sender, the retry schedule, failures, retry by hand.
struct MessageDeliveryTests {
    /// A sender that answers from a script (then `.sent`) and keeps what it was given.
    final class ScriptedSender: MessageSender {
        private let state = Mutex<(script: [DeliveryResult], sent: [Message])>(([], []))

        init(_ script: [DeliveryResult] = []) {
            state.withLock { $0.script = script }
        }

        var received: [Message] { state.withLock { $0.sent } }

        func send(_ message: Message) async -> DeliveryResult {
            state.withLock { state in
                state.sent.append(message)
                return state.script.isEmpty ? .sent("250 queued") : state.script.removeFirst()
            }
        }
    }

    static func placedOrder() async throws -> (TestShop, Order) {
        let (shop, shipping) = try await CheckoutServiceTests.shop()
        let cart = try await CheckoutServiceTests.readyCart(shop, shipping)
        let order = try await shop.checkout.complete(cart.id, payment: CheckoutServiceTests.card, payer: nil, request: nil)
        return (shop, order)
    }

    @Test func aPlacedOrderQueuesItsConfirmationRenderedWithTheTrackingLink() async throws {
        let (shop, order) = try await Self.placedOrder()
        let queued = try shop.messages.messages(MessageFilter(orderID: order.id), limit: 10, before: nil).items
        #expect(queued.count == 1)
        let message = try #require(queued.first)
        #expect(message.template == "order_confirmation")
        #expect(message.recipient == "ada@example.com")
        #expect(message.status == .queued)
        #expect(message.transactional)
        #expect(message.subject == "Your order #1001 at Test Shop")
        #expect(message.text.contains("Hello Ada,"))
        #expect(message.text.contains("2 x Mug MUG-1: 20.00 GBP") || message.text.contains(": 20.00 GBP"))
        #expect(message.text.contains("Total: 29.94 GBP"))
        #expect(message.text.contains("https://shop.example/v1/track/\(order.trackingToken)"))
        #expect(message.html?.contains("<a href=\"https://shop.example/v1/track/\(order.trackingToken)\">") == true)
    }

    @Test func deliveryRecordsTheAttemptAndTheEvent() async throws {
        let (shop, order) = try await Self.placedOrder()
        let sender = ScriptedSender()
        await shop.delivery(sender).deliverDue()
        #expect(sender.received.map(\.orderID) == [order.id])
        let message = try #require(try shop.messages.messages(MessageFilter(), limit: 10, before: nil).items.first)
        #expect(message.status == .sent)
        #expect(message.attempts == 1)
        #expect(message.sentAt != nil)
        #expect(message.nextAttemptAt == nil)
        #expect(try shop.messages.attempts(of: message.id).map(\.outcome) == [.sent])
        #expect(try shop.events.read(since: 0, topics: ["messages"], limit: 10).map(\.type) == ["message.sent"])
        // Nothing is due any more: a second pass sends nothing.
        await shop.delivery(sender).deliverDue()
        #expect(sender.received.count == 1)
    }

    @Test func aTemporaryFailureWaitsForTheScheduleThenSends() async throws {
        let (shop, _) = try await Self.placedOrder()
        let sender = ScriptedSender([.temporary("451 try later", retryAfter: nil), .temporary("451 again", retryAfter: .seconds(120))])
        let delivery = shop.delivery(sender)
        await delivery.deliverDue()
        var message = try #require(try shop.messages.messages(MessageFilter(), limit: 1, before: nil).items.first)
        #expect(message.status == .queued)
        #expect(message.attempts == 1)
        #expect(message.lastError == "451 try later")
        // 10 s, stretched by up to a tenth.
        let first = try #require(message.nextAttemptAtMilliseconds)
        let now = shop.clock.milliseconds
        #expect((now + 10_000...now + 11_000).contains(first))

        await delivery.deliverDue()
        #expect(sender.received.count == 1)
        shop.clock.advance(by: .seconds(11))
        await delivery.deliverDue()
        #expect(sender.received.count == 2)
        message = try #require(try shop.messages.message(message.id))
        // The receiver's Retry-After (2 min) outweighs the schedule's minute.
        let second = try #require(message.nextAttemptAtMilliseconds)
        let later = shop.clock.milliseconds
        #expect(second >= later + 120_000)

        shop.clock.advance(by: .seconds(121))
        await delivery.deliverDue()
        message = try #require(try shop.messages.message(message.id))
        #expect(message.status == .sent)
        #expect(message.attempts == 3)
        #expect(try shop.messages.attempts(of: message.id).map(\.outcome) == [.temporaryFailure, .temporaryFailure, .sent])
        // Every attempt carried the same message, so the same identity.
        #expect(Set(sender.received.map(\.id)).count == 1)
    }

    @Test func aPermanentFailureFailsAtOnceAndARetryByHandSendsAgain() async throws {
        let (shop, _) = try await Self.placedOrder()
        let sender = ScriptedSender([.bounced("550 no such user")])
        let delivery = shop.delivery(sender)
        await delivery.deliverDue()
        var message = try #require(try shop.messages.messages(MessageFilter(), limit: 1, before: nil).items.first)
        #expect(message.status == .failed)
        #expect(message.lastError == "550 no such user")
        #expect(try shop.events.read(since: 0, topics: ["messages"], limit: 10).map(\.type) == ["message.failed"])

        message = try await shop.messages.retry(message.id)
        #expect(message.status == .queued)
        await #expect(throws: MessageError.notRetryable(id: message.id.rawValue, status: .queued)) {
            try await shop.messages.retry(message.id)
        }
        await delivery.deliverDue()
        message = try #require(try shop.messages.message(message.id))
        #expect(message.status == .sent)
        #expect(message.attempts == 2)
    }

    @Test func aBouncedAddressGetsNoMoreMessagesUntilLifted() async throws {
        let (shop, _) = try await Self.placedOrder()
        await shop.delivery(ScriptedSender([.bounced("550 5.1.1 no such user")])).deliverDue()
        let suppressions = try shop.messages.suppressions()
        #expect(suppressions.map(\.address) == ["ada@example.com"])
        #expect(suppressions.first?.detail == "550 5.1.1 no such user")
        let queue = { (address: String) in
            try await shop.store.stores.writer.write { transaction in
                try shop.messages.queue(.init(channel: .email, recipient: address, template: "sign_in_code", data: ["code": "1"],
                                              transactional: true), in: transaction)
            }
        }
        let skipped = try await queue("ADA@example.com")
        #expect(skipped.status == .skipped)
        #expect(skipped.skipReason == "undeliverable")
        try await shop.messages.unsuppress("ada@example.com", channel: .email)
        #expect(try await queue("ada@example.com").status == .queued)
        await #expect(throws: MessageError.suppressionNotFound(address: "ada@example.com", channel: .email)) {
            try await shop.messages.unsuppress("ada@example.com", channel: .email)
        }
    }

    @Test func anUnsubscribeStopsMarketingOnlyAndABounceOverridesIt() async throws {
        let shop = try await TestShop()
        try await shop.messages.unsubscribe("ada@example.com", channel: .email)
        let queue = { (transactional: Bool) in
            try await shop.store.stores.writer.write { transaction in
                try shop.messages.queue(.init(channel: .email, recipient: "ada@example.com", template: "back_in_stock",
                                              data: ["product": ["title": "Mug"]], transactional: transactional), in: transaction)
            }
        }
        #expect(try await queue(false).skipReason == "unsubscribed")
        let order = try await queue(true)
        #expect(order.status == .queued)
        await shop.delivery(ScriptedSender([.bounced("550 gone")])).deliverDue()
        #expect(try shop.messages.suppressions().map(\.reason) == ["bounced"])
        #expect(try await queue(true).skipReason == "undeliverable")
    }

    /// A sender that holds each attempt until the test lets it go.
    final class HeldSender: MessageSender {
        private let gate = Mutex<(entered: Int, waiting: [CheckedContinuation<Void, Never>])>((0, []))

        var entered: Int { gate.withLock { $0.entered } }

        func release() {
            for waiter in gate.withLock({ state in defer { state.waiting = [] }; return state.waiting }) { waiter.resume() }
        }

        func send(_ message: Message) async -> DeliveryResult {
            await withCheckedContinuation { continuation in
                gate.withLock { state in
                    state.entered += 1
                    state.waiting.append(continuation)
                }
            }
            return .sent("250 queued")
        }
    }

    /// A flow's fallback, a run's exit or a campaign's cancel skips what its run queued: never a message
    /// whose attempt is under way (it would go as well as the fallback), and a message skipped before its
    /// attempt began does not go.
    @Test func aSkipLeavesAMessageInFlightAloneAndASkippedMessageDoesNotGo() async throws {
        let shop = try await TestShop()
        let origin = MessageOrigin(flowID: FlowID(rawValue: "flw_test"), runID: RunID(rawValue: "run_test"), step: "0")
        let queue = { (recipient: String) in
            try await shop.store.stores.writer.write { transaction in
                try shop.messages.queue(.init(channel: .email, recipient: recipient, template: "back_in_stock", data: ["product": ["title": "Mug"]],
                                              transactional: true, origin: origin), in: transaction)
            }
        }
        let skip = { (message: Message) in
            try await shop.store.stores.writer.write { transaction in
                try shop.messages.skip(message, retryBase: 0, reason: "timed_out", in: transaction)
            }
        }
        let sender = HeldSender()
        let delivery = DeliveryService(stores: shop.store.stores, events: shop.events, senders: [.email: sender], clock: shop.clock,
                                       messages: shop.messages)
        let going = try await queue("ada@example.com")
        let attempt = Task { await delivery.deliverDue() }
        while sender.entered == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await skip(going) == false)
        sender.release()
        await attempt.value
        #expect(try shop.messages.message(going.id)?.status == .sent)

        let stopped = try await queue("grace@example.com")
        #expect(try await skip(stopped) == true)
        await delivery.deliverDue()
        #expect(sender.entered == 1)
        #expect(try shop.messages.message(stopped.id)?.status == .skipped)
    }

    @Test func theScheduleRunsOutAndTheMessageFails() async throws {
        let (shop, _) = try await Self.placedOrder()
        let sender = ScriptedSender(Array(repeating: .temporary("421 busy", retryAfter: nil), count: 20))
        let delivery = shop.delivery(sender)
        for _ in 0...RetrySchedule.messages.delays.count {
            await delivery.deliverDue()
            shop.clock.advance(by: .seconds(86_400 * 2))
        }
        let message = try #require(try shop.messages.messages(MessageFilter(), limit: 1, before: nil).items.first)
        #expect(message.status == .failed)
        #expect(message.attempts == RetrySchedule.messages.delays.count + 1)
        #expect(message.nextAttemptAt == nil)
    }

    @Test func statusChangesTellTheCustomerAndDispatchCarriesTheTrackingNumber() async throws {
        let (shop, order) = try await Self.placedOrder()
        for status in [OrderStatus.confirmed, .packed, .dispatched] {
            _ = try await shop.orders.transition(order.id, to: status, actor: "admin", note: nil,
                                                 trackingNumber: status == .dispatched ? "TRK-42" : nil)
        }
        let all = try shop.messages.messages(MessageFilter(orderID: order.id), limit: 10, before: nil).items
        #expect(all.map(\.template) == ["order_status", "order_status", "order_status", "order_confirmation"])
        let dispatched = try #require(all.first)
        #expect(dispatched.subject == "Your order #1001 is on its way")
        #expect(dispatched.text.contains("Tracking number: TRK-42"))
    }

    @Test func aFailedChangeQueuesNothing() async throws {
        let (shop, order) = try await Self.placedOrder()
        await #expect(throws: CheckoutError.invalidTransition(from: .paid, to: .delivered)) {
            try await shop.orders.transition(order.id, to: .delivered, actor: "admin", note: nil, trackingNumber: nil)
        }
        #expect(try shop.messages.messages(MessageFilter(orderID: order.id), limit: 10, before: nil).items.count == 1)
    }

    @Test func aChannelThatCannotDeliverRecordsTheMessageAsSkipped() async throws {
        let shop = try await TestShop()
        let unavailable = try MessageService(stores: shop.store.stores, events: shop.events, available: [], clock: shop.clock)
        let message = try await shop.store.stores.writer.write { transaction in
            try unavailable.queue(.init(channel: .sms, recipient: "+447700900123", template: "sign_in_code", data: ["code": "123456"],
                                        transactional: true), in: transaction)
        }
        #expect(message.status == .skipped)
        #expect(message.skipReason == "channel_unavailable")
        #expect(try shop.events.read(since: 0, topics: ["messages"], limit: 10).map(\.type) == ["message.skipped"])
    }
}
