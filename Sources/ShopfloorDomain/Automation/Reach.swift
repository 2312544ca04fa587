import Foundation

/// How a flow or a campaign reaches one customer on one channel: the address to use, and the first
/// moment marketing may go there under the shop's caps and quiet hours.
struct Reach: Sendable {
    let messages: MessageService
    let push: any PushSubscriptionStore
    let pricing: PricingService

    /// The customer's email or phone (else the cart's), or the latest push subscription of the
    /// customer (else of the cart), with the link a push leads to.
    func recipient(_ channel: MessageChannel, customer: Customer?, cart: Cart?, link: String?,
                   in transaction: any WriteTransaction) throws -> (address: String, link: String?)? {
        switch channel {
        case .email: return (customer?.email ?? cart?.email).map { ($0, nil) }
        case .sms: return (customer?.phone ?? cart?.phone).map { ($0, nil) }
        case .push:
            return try push.latest(customer: customer?.id.rawValue, cart: cart?.id, in: transaction).map { ($0.endpoint, link) }
        }
    }

    /// When a marketing message on `channel` to `customer` may go (``MarketingPace``), in their time
    /// zone, else the shop's.
    func earliest(_ channel: MessageChannel, to customer: Customer?, now: Date,
                  in transaction: any WriteTransaction) throws -> (at: Date, hold: MarketingPace.Hold?) {
        let settings = pricing.rules.settings
        let zone = (customer?.timezone).flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: settings.timezone) ?? .gmt
        let last = try customer.flatMap { try messages.lastMarketing(to: $0.id, on: [channel], in: transaction) }
        return settings.marketingPace.earliest(channel, now: now, lastMarketing: last, timeZone: zone)
    }
}
