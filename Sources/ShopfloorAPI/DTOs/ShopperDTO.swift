import ShopfloorDomain
import ShopfloorJSON

/// `POST /v1/activity` body: a visitor's actions without a socket (`navigator.sendBeacon`).
struct ActivityBatchDTO: Decodable {
    struct Item: Decodable {
        var type: String
        var at: String?
    }

    var visitor: String
    var events: [Item]
    var consent: Bool?
}

/// `POST /v1/shoppers/{visitor}/messages` body.
struct ShopperMessageDTO: Decodable {
    var text: String
}

/// `POST /v1/shoppers/{visitor}/offers` body: `value` as for `POST /v1/discounts`; `expires_in` a
/// duration such as `30m`.
struct NewOfferDTO: Decodable {
    var kind: Discount.Kind
    var value: NewDiscountDTO.Value?
    var expiresIn: String

    func offer() throws -> ConversationService.NewOffer {
        guard let expires = Configuration.parseDuration(expiresIn) else {
            throw ValidationError(field: "expires_in", detail: "must be a duration such as 15m, 2h or 7d")
        }
        switch (kind, value) {
        case (.percent, .number(let percent)?): return .init(kind: kind, value: percent, currency: nil, expiresIn: expires)
        case (.fixed, .money(let money)?): return .init(kind: kind, value: money.amount, currency: money.currency, expiresIn: expires)
        case (.freeShipping, nil): return .init(kind: kind, value: 0, currency: nil, expiresIn: expires)
        case (.percent, _): throw ValidationError(field: "value", detail: "must be a whole percentage for a percent offer")
        case (.fixed, _): throw ValidationError(field: "value", detail: "must be Money ({\"amount\",\"currency\"}) for a fixed offer")
        case (.freeShipping, _): throw ValidationError(field: "value", detail: "is not used by free_shipping offers")
        }
    }
}

/// An offer as the API shows it: `value` a percentage, Money for `fixed`, 0 for free shipping.
struct OfferDTO: Encodable {
    var code: String
    var kind: Discount.Kind
    var value: OfferValue
    var expiresAt: String
    @Nullable var customerID: String?
    @Nullable var cartID: String?
    @Nullable var acceptedAt: String?
    var redeemed: Bool

    init(_ offer: Offer) {
        code = offer.code
        kind = offer.kind
        value = OfferValue(offer)
        expiresAt = offer.expiresAt
        customerID = offer.customerID
        cartID = offer.cartID
        acceptedAt = offer.acceptedAt
        redeemed = offer.redeemed
    }
}

/// An offer's value: a number, or Money for a fixed amount.
struct OfferValue: Encodable {
    var offer: Offer

    init(_ offer: Offer) { self.offer = offer }

    func encode(to encoder: any Encoder) throws {
        if offer.kind == .fixed, let currency = offer.currency {
            try Money(amount: offer.value, currency: currency).encode(to: encoder)
        } else {
            var container = encoder.singleValueContainer()
            try container.encode(offer.value)
        }
    }
}

/// `POST /v1/shoppers/{visitor}/offers` answer.
struct OfferMadeDTO: Encodable {
    var conversation: String
    var offer: OfferDTO

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(conversation, forKey: .conversation)
        try offer.encode(to: encoder)
    }

    private enum CodingKeys: String, CodingKey { case conversation }
}

/// A conversation message as the API shows it.
struct ConversationMessageDTO: Encodable {
    var from: ConversationMessage.Sender
    var text: String?
    var author: String?
    var at: String
    var offer: OfferDTO?

    init(_ message: ConversationMessage) {
        from = message.from
        text = message.text
        author = message.author
        at = message.at
        offer = message.offer.map(OfferDTO.init)
    }
}

/// A conversation: in a list with its last message, alone with all of them.
struct ConversationDTO: Encodable {
    var id: String
    var visitor: String
    var customerID: String?
    var createdAt: String
    var updatedAt: String
    var lastMessage: ConversationMessageDTO?
    var messages: [ConversationMessageDTO]?

    init(_ conversation: Conversation, full: Bool) {
        id = conversation.id.rawValue
        visitor = conversation.visitor.rawValue
        customerID = conversation.customerID?.rawValue
        createdAt = conversation.createdAt
        updatedAt = conversation.updatedAt
        lastMessage = conversation.messages.last.map(ConversationMessageDTO.init)
        messages = full ? conversation.messages.map(ConversationMessageDTO.init) : nil
    }
}

/// `POST /v1/shoppers/{visitor}/messages` answer.
struct MessageSentDTO: Encodable {
    var conversation: String
    var message: ConversationMessageDTO
}
