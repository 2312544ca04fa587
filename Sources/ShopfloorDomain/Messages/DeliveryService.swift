import Foundation
public import Logging

/// Sends what the outbox holds: due messages go to their channel's ``MessageSender``, at most
/// `concurrency` at a time per channel, and each attempt is recorded with what follows from it (sent,
/// due again later by the ``RetrySchedule``, or failed) in one transaction, with its event.
///
/// At least once, never zero: a message stays `queued` in the store until its attempt is recorded, so
/// after a crash mid-send it is sent again on the next start, with the same id (the email's
/// `Message-ID`) for the receiver to recognise. Due is read from the injected clock, so tests move
/// time and call ``deliverDue()`` instead of waiting.
public final class DeliveryService: Sendable {
    private let store: any MessageStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let clock: any WallClock
    private let senders: [MessageChannel: any MessageSender]
    private let concurrency: Int
    private let schedule: RetrySchedule
    private let logger: Logger
    /// Messages being sent now, by channel, so a pass does not start one twice or overfill a channel;
    /// the outbox's own when there is one, so that it leaves a message in flight alone when skipping.
    private let inFlight: InFlightClaims<MessageID, MessageChannel>
    private let loop: DeliveryLoop

    /// Attempts in flight per channel unless told otherwise.
    public static let defaultConcurrency = 8

    /// The outbox's front, asked again just before a marketing message goes (it may have waited hours
    /// for a cap or quiet hours): why it must not go now (the address unsubscribed, consent withdrawn).
    private let messages: MessageService?

    public init(stores: Stores, events: EventLog, senders: [MessageChannel: any MessageSender], concurrency: Int = defaultConcurrency,
                schedule: RetrySchedule = .messages, clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "shopfloor.delivery"),
                messages: MessageService? = nil) {
        self.messages = messages
        inFlight = messages?.inFlight ?? InFlightClaims()
        store = stores.messages
        writer = stores.writer
        self.events = events
        self.clock = clock
        self.senders = senders
        self.concurrency = max(1, concurrency)
        self.schedule = schedule
        self.logger = logger
        loop = DeliveryLoop(writer: writer) { $0 is MessageQueued }
    }

    /// Delivers until cancelled: a pass whenever a message is queued or an attempt ends, and every
    /// `tick` for retries that have come due. In-flight attempts finish before it returns.
    public func run(tick: Duration = .milliseconds(500)) async {
        await loop.run(tick: tick, claim: { self.claimDue() }, send: { await self.deliver($0.0, retryBase: $0.1) })
    }

    /// Sends every message due now, waiting for each attempt to be recorded, until none is due: the
    /// service's step, for tests that move their clock.
    public func deliverDue() async {
        await DeliveryLoop.drain(claim: claimDue, send: { await self.deliver($0.0, retryBase: $0.1) })
    }

    /// Whether an attempt at the message is under way.
    public func isSending(_ id: MessageID) -> Bool {
        inFlight.contains(id)
    }

    /// Due messages for each channel's free slots, marked in flight.
    private func claimDue() -> [(Message, Int)] {
        inFlight.beginPass()
        let now = clock.milliseconds
        var claimed: [(Message, Int)] = []
        for channel in MessageChannel.allCases {
            let busy = inFlight.count(channel)
            guard busy < concurrency else { continue }
            let due: [(message: Message, retryBase: Int)]
            do {
                // Enough to find the free slots' worth past those in flight, which are still due in the store.
                due = try store.due(channel: channel, at: now, limit: concurrency + busy)
            } catch {
                logger.error("reading due messages failed", metadata: ["error": "\(error)"])
                continue
            }
            claimed += inFlight.claim(due, lane: channel, limit: concurrency) { $0.message.id }.map { ($0.message, $0.retryBase) }
        }
        return claimed
    }

    /// One attempt at `message` and its record.
    private func deliver(_ message: Message, retryBase: Int) async {
        defer { inFlight.finish(message.id, lane: message.channel) }
        // A flow's or campaign's message can be skipped by its run or campaign while waiting (a fallback,
        // an exit, a cancel): it goes only if, in the writer's order, it is still queued once claimed,
        // since a skip after this point sees it in flight and leaves it be.
        if message.origin != nil || !message.transactional {
            let (store, events, stamp, messages) = (store, events, clock.timestamp, messages)
            do {
                let goes = try await writer.write { transaction -> Bool in
                    guard let (current, base) = try store.message(message.id, in: transaction), current.status == .queued else { return false }
                    guard !current.transactional, let reason = try messages?.refusal(of: current, in: transaction) else { return true }
                    var skipped = current
                    skipped.status = .skipped
                    skipped.skipReason = reason
                    skipped.nextAttemptAt = nil
                    skipped.nextAttemptAtMilliseconds = nil
                    skipped.updatedAt = stamp
                    try store.update(skipped, retryBase: base, in: transaction)
                    try MessageService.appendEvent("message.skipped", for: skipped, to: events, store: store, in: transaction)
                    return false
                }
                if !goes { return }
            } catch {
                logger.error("checking a message before it goes failed", metadata: ["message": "\(message.id)", "error": "\(error)"])
                return
            }
        }
        let result: DeliveryResult
        if let sender = senders[message.channel] {
            result = await sender.send(message)
        } else {
            result = .permanent("the \(message.channel.rawValue) channel is not configured")
        }
        let now = clock.now()
        let stamp = Timestamp.string(now)
        var settled = message
        settled.attempts += 1
        settled.updatedAt = stamp
        let outcome: MessageAttempt.Outcome
        let detail: String
        var bounced = false
        switch result {
        case .sent(let answer):
            (outcome, detail) = (.sent, answer)
            settled.status = .sent
            settled.sentAt = stamp
            settled.lastError = nil
        case .temporary(let error, let retryAfter):
            (outcome, detail) = (.temporaryFailure, error)
            settled.lastError = error
            if let delay = schedule.delay(afterFailures: settled.attempts - retryBase, atLeast: retryAfter) {
                let next = now.addingTimeInterval(delay.seconds)
                settled.nextAttemptAt = Timestamp.string(next)
                settled.nextAttemptAtMilliseconds = next.millisecondsSince1970
            } else {
                settled.status = .failed
            }
        case .permanent(let error), .bounced(let error):
            (outcome, detail) = (.permanentFailure, error)
            settled.status = .failed
            settled.lastError = error
            if case .bounced = result { bounced = true }
        }
        if settled.status.isSettled {
            settled.nextAttemptAt = nil
            settled.nextAttemptAtMilliseconds = nil
        }
        let attempt = MessageAttempt(messageID: message.id, number: settled.attempts, at: stamp, outcome: outcome, detail: String(detail.prefix(500)))
        let recorded = settled
        let suppression = bounced
            ? Suppression(address: message.recipient, channel: message.channel, reason: "bounced", detail: String(detail.prefix(500)),
                          messageID: message.id, createdAt: stamp)
            : nil
        do {
            try await writer.write { transaction in
                try self.store.update(recorded, retryBase: retryBase, in: transaction)
                try self.store.recordAttempt(attempt, in: transaction)
                if let suppression { try self.store.suppress(suppression, in: transaction) }
                switch recorded.status {
                case .sent: try MessageService.appendEvent("message.sent", for: recorded, to: self.events, store: self.store, in: transaction)
                case .failed: try MessageService.appendEvent("message.failed", for: recorded, to: self.events, store: self.store, in: transaction)
                default: break
                }
            }
        } catch {
            // The message stays due as it was, so it is sent again: at least once.
            logger.error("recording a delivery attempt failed", metadata: ["message": "\(message.id)", "error": "\(error)"])
        }
    }
}
