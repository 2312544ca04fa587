import Foundation
import HTTPTypes
import Logging
import ShopfloorCrypto
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// Web Push over the outbound HTTP client (RFC 8030): the notification `{"title","body","url"}`
/// encrypted for the subscription's keys (RFC 8291) and signed with the server's VAPID key (RFC
/// 8292), kept by the push service for a day. A 404 or 410 means the subscription is gone: it is
/// removed, and the message fails.
struct PushSender: MessageSender {
    let client: HTTPClient
    let vapid: VAPID
    let push: PushService
    let clock: any WallClock
    let logger: Logger

    /// Seconds a push service keeps a message for a device that is offline.
    static let timeToLive = 86_400

    func send(_ message: Message) async -> DeliveryResult {
        let subscription: PushSubscription
        do {
            guard let found = try push.subscription(endpoint: message.recipient) else { return .permanent("the push subscription was removed") }
            subscription = found
        } catch {
            return .temporary("reading the push subscription failed: \(error)", retryAfter: nil)
        }
        let request: WebPushRequest
        do {
            let payload = try JSONCoding.encode(PushNotification(title: message.subject ?? "", body: message.text, url: message.link))
            request = try WebPushRequest(
                endpoint: subscription.endpoint, keys: try WebPushSubscriptionKeys(p256dh: subscription.p256dh, auth: subscription.auth),
                payload: payload, ttl: Self.timeToLive, vapid: vapid, now: Int64(clock.now().timeIntervalSince1970.rounded(.down)))
        } catch {
            return .permanent("the push message could not be made: \(error)")
        }
        do {
            var fields = HTTPFields()
            for header in request.headers {
                guard let name = HTTPField.Name(header.name) else { return .permanent("invalid header \(header.name)") }
                fields.append(HTTPField(name: name, value: header.value))
            }
            let response = try await client.execute(HTTPClientRequest(
                method: .post, url: try HTTPClientURL(request.url), headerFields: fields, body: request.body))
            if response.statusCode == 404 || response.statusCode == 410 {
                do {
                    try await push.unsubscribe(endpoint: subscription.endpoint)
                } catch {
                    logger.error("removing a gone push subscription failed", metadata: ["error": "\(error)"])
                }
                return .permanent("HTTP \(response.statusCode): the subscription is gone and was removed")
            }
            return HTTPDeliveryOutcome.result(response, detail: "HTTP \(response.statusCode)")
        } catch {
            return HTTPDeliveryOutcome.result(error)
        }
    }
}

/// What a service worker's `push` event receives.
private struct PushNotification: Encodable {
    var title: String
    var body: String
    var url: String?
}
