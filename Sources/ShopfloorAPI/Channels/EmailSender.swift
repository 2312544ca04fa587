import Foundation
import ShopfloorDomain
import ShopfloorTransport
import Synchronization

/// The email channel: each message as a MIME mail (text and HTML parts) through the configured SMTP
/// server, over a few connections kept open between messages, each on its own thread.
///
/// A mail's `Message-ID` is the message's id at the sender's domain, and its `Date` the time it was
/// queued, so a message sent again after a crash is the same mail to the receiver. What the server
/// says decides the outcome: a refused recipient is a bounce, another 5xx permanent, a 4xx, a lost
/// connection or a timeout temporary.
///
/// A marketing message (not transactional) carries a one-click unsubscribe (RFC 8058):
/// `List-Unsubscribe` with the server's link for its recipient, and `List-Unsubscribe-Post`.
final class EmailSender: MessageSender {
    private let from: MailAddress
    private let unsubscribe: UnsubscribeLinks
    private let domain: String
    private let slots: [Slot]
    /// Indexes of the slots not sending now.
    private let free: Mutex<[Int]>

    /// One connection: its worker thread and the client only that thread touches.
    ///
    /// `@unchecked Sendable`: `client` is read and written only inside jobs on `worker`, one at a time.
    private final class Slot: @unchecked Sendable {
        let worker: BlockingWorker
        var client: SMTPClient?

        init(_ worker: BlockingWorker) { self.worker = worker }
    }

    private let configuration: SMTPConfiguration
    private let trust: TLSClientContext?
    private let localName: String
    private let timeouts: SMTPClient.Timeouts

    /// - Parameters:
    ///   - from: the sender, `shop@example.com` or `Shop <shop@example.com>`.
    ///   - connections: SMTP connections at most (the delivery service's concurrency per channel).
    init(configuration: SMTPConfiguration, from: String, trust: TLSClientContext?, connections: Int, unsubscribe: UnsubscribeLinks,
         timeouts: SMTPClient.Timeouts = SMTPClient.Timeouts(connect: .seconds(15), command: .seconds(60), data: .seconds(120))) throws {
        self.from = try Self.address(from)
        self.unsubscribe = unsubscribe
        domain = String(self.from.address.split(separator: "@").last ?? "localhost")
        localName = domain
        self.configuration = configuration
        self.trust = trust
        self.timeouts = timeouts
        // Made once now, so a bad setting stops the start instead of failing every message.
        _ = try SMTPClient(configuration: configuration, tlsContext: trust, localName: localName, timeouts: timeouts)
        slots = (0..<max(1, connections)).map { index in Slot(BlockingWorker(name: "sf-smtp-\(index)")) }
        free = Mutex(Array(slots.indices))
    }

    /// The mail for `message`.
    func mail(for message: Message) throws -> MailMessage {
        var headers = [("Auto-Submitted", "auto-generated")]
        if !message.transactional {
            headers.append(("List-Unsubscribe", "<\(unsubscribe.url(for: message.recipient, channel: .email))>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        }
        return try MailMessage(
            from: from, to: [try MailAddress(message.recipient)], subject: message.subject ?? message.template, text: message.text,
            html: message.html, messageID: "\(message.id.rawValue)@\(domain)", date: Timestamp.date(message.createdAt) ?? Date(),
            headers: headers)
    }

    func send(_ message: Message) async -> DeliveryResult {
        let mail: MailMessage
        do {
            mail = try self.mail(for: message)
        } catch {
            return .permanent("the message cannot be written as mail: \(error)")
        }
        guard let index = free.withLock({ $0.popLast() }) else {
            return .temporary("no SMTP connection free", retryAfter: nil)
        }
        defer { free.withLock { $0.append(index) } }
        let slot = slots[index]
        let (configuration, trust, localName, timeouts) = (configuration, trust, localName, timeouts)
        return await slot.worker.run {
            do {
                if slot.client == nil {
                    slot.client = try SMTPClient(configuration: configuration, tlsContext: trust, localName: localName, timeouts: timeouts)
                }
                let delivery = try slot.client!.send(mail)
                return .sent("\(delivery.reply.code) \(delivery.text)")
            } catch let error as SMTPError {
                switch error {
                case .recipientRejected: return .bounced(error.description)
                default: return error.isTemporary ? .temporary(error.description, retryAfter: nil) : .permanent(error.description)
                }
            } catch {
                return .permanent("\(error)")
            }
        }
    }

    /// Says goodbye on every open connection and ends the threads.
    func close() {
        for slot in slots {
            slot.worker.stop { slot.client?.close() }
        }
    }

    /// `shop@example.com` or `Shop <shop@example.com>`.
    static func address(_ text: String) throws -> MailAddress {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let name = trimmed[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return try MailAddress(String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]),
                                   displayName: name.isEmpty ? nil : name)
        }
        return try MailAddress(trimmed)
    }
}
