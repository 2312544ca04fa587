import Foundation
import ShopfloorCrypto

/// Reaching one live shopper (API.md, Live shoppers): messages both ways and single-use offers, kept
/// in a conversation per visitor. A message or offer is stored with its event first, then handed to
/// every socket of the visitor; one to a visitor who is not live is refused, since nobody would see it
/// (offline channels are the automation's).
public final class ConversationService: Sendable {
    /// Longest message text, in characters.
    public static let maxText = 2000
    /// Longest an offer may stay open.
    public static let maxOfferLife: Duration = .seconds(30 * 86_400)

    private let store: any ShopperStore
    private let pricingStore: any PricingStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let live: LiveShoppers
    private let checkout: CheckoutService
    private let carts: CartService
    private let clock: any WallClock

    public init(stores: Stores, events: EventLog, live: LiveShoppers, checkout: CheckoutService, carts: CartService, clock: any WallClock) {
        store = stores.shoppers
        pricingStore = stores.pricing
        writer = stores.writer
        self.events = events
        self.live = live
        self.checkout = checkout
        self.carts = carts
        self.clock = clock
    }

    public func conversations(limit: Int, before: Int64?) throws -> Page<Conversation> {
        Page(try store.conversations(limit: limit + 1, before: before), limit: limit, position: \.position, item: \.conversation)
    }

    public func conversation(_ id: ConversationID) throws -> Conversation {
        guard let conversation = try store.conversation(id) else { throw ShopperError.conversationNotFound(id.rawValue) }
        return conversation
    }

    /// A message from the shop (`author`, an API key id) to a live visitor.
    public func send(_ text: String, to visitor: VisitorID, author: String) async throws -> (ConversationID, ConversationMessage) {
        try Self.check(text)
        let visit = try liveVisit(visitor)
        let message = ConversationMessage(from: .shop, author: author, text: text, offer: nil, at: clock.timestamp)
        let id = try await write(message, visitor: visitor, customer: visit.customer)
        live.deliver(.message(conversation: id, from: .shop, text: text, at: message.at), to: visitor)
        return (id, message)
    }

    /// A message from the shopper on one of their sockets: echoed to all of them, so every tab shows it.
    public func reply(_ text: String, from visitor: VisitorID) async throws -> ConversationID {
        try Self.check(text)
        let customer = live.visit(visitor)?.customer
        let message = ConversationMessage(from: .shopper, author: nil, text: text, offer: nil, at: clock.timestamp)
        let id = try await write(message, visitor: visitor, customer: customer)
        live.deliver(.message(conversation: id, from: .shopper, text: text, at: message.at), to: visitor)
        return id
    }

    /// What an offer is made of (`POST /v1/shoppers/{visitor}/offers`).
    public struct NewOffer: Sendable {
        public var kind: Discount.Kind
        public var value: Int64
        public var currency: Currency?
        public var expiresIn: Duration

        public init(kind: Discount.Kind, value: Int64, currency: Currency?, expiresIn: Duration) {
            self.kind = kind
            self.value = value
            self.currency = currency
            self.expiresIn = expiresIn
        }
    }

    /// Makes a single-use code for a live visitor, bound to their cart if they have one, else to
    /// their customer if known (else to the cart they accept it onto), and sends it to their sockets.
    /// Accepting it from one of their sockets binds it to the cart it goes on: the visitor is who it
    /// was made for, whatever the cart says of its customer.
    public func offer(_ new: NewOffer, to visitor: VisitorID, author: String) async throws -> (ConversationID, Offer) {
        var validator = Validator()
        Discount.checkValue(kind: new.kind, value: new.value, currency: new.currency, into: &validator)
        validator.check(new.expiresIn >= .seconds(60) && new.expiresIn <= Self.maxOfferLife, "expires_in", "must be from 1m to 30d")
        try validator.throwIfAny()
        let visit = try liveVisit(visitor)
        let now = clock.now()
        let code = "LIVE-" + SecureRandom.base32(8).uppercased()
        let expiresAt = Timestamp.string(now.addingTimeInterval(new.expiresIn.seconds))
        let offer = Offer(
            code: code, kind: new.kind, value: new.kind == .freeShipping ? 0 : new.value, currency: new.kind == .fixed ? new.currency : nil,
            expiresAt: expiresAt, visitor: visitor, customerID: visit.cart == nil ? visit.customer?.rawValue : nil, cartID: visit.cart?.rawValue,
            acceptedAt: nil, redeemed: false)
        let discount = Discount(
            id: .make(), code: code, kind: offer.kind, value: offer.value, currency: offer.currency, customerID: offer.customerID,
            minSubtotal: nil, maxUses: 1, maxUsesPerCustomer: nil, startsAt: nil, endsAt: expiresAt, disabled: false, uses: 0,
            createdAt: Timestamp.string(now), cartID: offer.cartID)
        let message = ConversationMessage(from: .shop, author: author, text: nil, offer: offer, at: Timestamp.string(now))
        let pricingStore = pricingStore
        let id = try await write(message, visitor: visitor, customer: visit.customer) { transaction in
            try pricingStore.insertIssued(discount, for: Offer.source(of: visitor), in: transaction)
        }
        live.stats.offer(.sent)
        live.deliver(.offer(conversation: id, offer: offer), to: visitor)
        return (id, offer)
    }

    /// `accept_offer`: puts the code on the visitor's cart. Returns the cart.
    public func accept(_ code: String, by visitor: VisitorID) async throws -> Cart {
        guard let offer = try store.offer(code: code), offer.visitor == visitor else { throw ShopperError.offerRejected("No offer \(code) was made to you.") }
        guard offer.expiresAt > clock.timestamp else { throw ShopperError.offerRejected("The offer \(offer.code) has expired.") }
        guard !offer.redeemed else { throw ShopperError.offerRejected("The offer \(offer.code) was used.") }
        guard let cartID = live.visit(visitor)?.cart, let cart = try carts.cart(cartID), cart.status == .active else { throw ShopperError.noCart }
        if let bound = offer.cartID, bound != cartID.rawValue { throw ShopperError.offerRejected("The offer \(offer.code) is for another cart.") }
        guard let conversation = try store.conversation(ofVisitor: visitor) else { throw ShopperError.offerRejected("No offer \(code) was made to you.") }
        let (store, events, now) = (store, events, clock.timestamp)
        try await writer.write { transaction in
            try store.accept(offer: offer.code, cart: cartID, at: now, in: transaction)
            try events.append(type: "offer.accepted", topic: "conversation:\(conversation)",
                              data: OfferAccepted(conversation: conversation.rawValue, visitor: visitor.rawValue, code: offer.code, cartID: cartID.rawValue),
                              in: transaction)
        }
        let codes = cart.discountCodes.contains { $0.lowercased() == offer.code.lowercased() } ? cart.discountCodes : cart.discountCodes + [offer.code]
        let updated = try await checkout.update(cartID, with: CheckoutService.Details(discountCodes: codes))
        live.stats.offer(.accepted)
        return updated
    }

    private func liveVisit(_ visitor: VisitorID) throws -> (customer: CustomerID?, cart: CartID?) {
        guard let visit = live.visit(visitor) else {
            guard try store.visitor(visitor) != nil else { throw ShopperError.unknownVisitor(visitor.rawValue) }
            throw ShopperError.notLive(visitor.rawValue)
        }
        guard visit.live else { throw ShopperError.notLive(visitor.rawValue) }
        return (visit.customer, visit.cart)
    }

    /// Stores `message` in the visitor's conversation (made now if there is none) with its event.
    private func write(_ message: ConversationMessage, visitor: VisitorID, customer: CustomerID?,
                       also: @escaping @Sendable (any WriteTransaction) throws -> Void = { _ in }) async throws -> ConversationID {
        let existing = try store.conversation(ofVisitor: visitor)
        let id = existing ?? .make()
        let (store, events) = (store, events)
        try await writer.write { transaction in
            if existing == nil { try store.insertConversation(id, visitor: visitor, customer: customer, at: message.at, in: transaction) }
            try store.append(message, to: id, in: transaction)
            try also(transaction)
            if let offer = message.offer {
                try events.append(type: "conversation.offer", topic: "conversation:\(id)",
                                  data: OfferMade(conversation: id.rawValue, visitor: visitor.rawValue, code: offer.code, kind: offer.kind,
                                                  value: offer.value, currency: offer.currency, expiresAt: offer.expiresAt),
                                  in: transaction)
            } else {
                try events.append(type: "conversation.message", topic: "conversation:\(id)",
                                  data: MessageWritten(conversation: id.rawValue, visitor: visitor.rawValue, customerID: customer?.rawValue,
                                                       from: message.from, text: message.text ?? "", author: message.author, at: message.at),
                                  in: transaction)
            }
        }
        return id
    }

    private static func check(_ text: String) throws {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, text.count <= maxText else {
            throw ValidationError(field: "text", detail: "must be 1 to \(maxText) characters, not only spaces")
        }
    }
}

/// The data of `conversation.message`.
struct MessageWritten: Encodable {
    var conversation: String
    var visitor: String
    var customerID: String?
    var from: ConversationMessage.Sender
    var text: String
    var author: String?
    var at: String
}

/// The data of `conversation.offer`.
struct OfferMade: Encodable {
    var conversation: String
    var visitor: String
    var code: String
    var kind: Discount.Kind
    var value: Int64
    var currency: Currency?
    var expiresAt: String
}

/// The data of `offer.accepted`.
struct OfferAccepted: Encodable {
    var conversation: String
    var visitor: String
    var code: String
    var cartID: String
}
