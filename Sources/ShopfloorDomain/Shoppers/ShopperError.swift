/// Why a request about live shoppers, their messages or offers was refused.
public enum ShopperError: Error, Equatable {
    /// No visitor with this id was ever seen.
    case unknownVisitor(String)
    /// The visitor exists but has no open socket: reach them through another channel.
    case notLive(String)
    case conversationNotFound(String)
    /// `product.viewed` names no product of the catalogue.
    case unknownProduct(String)
    /// `accept_offer` from a visitor without an active cart.
    case noCart
    /// The code is unknown, expired, used, or was made for someone else.
    case offerRejected(String)
}
