import ShopfloorDomain

/// What the event channel needs for storefront sockets: presence, conversations, and sign-in
/// sessions for `hello`'s `customer_token`.
struct ShopperServices: Sendable {
    let live: LiveShoppers
    let conversations: ConversationService
    let auth: ShopperAuthService
}
