/// Which orders a caller may see and act on. Admin keys see every order; a till (a `pos` key) sees
/// the orders of its own location, and online orders only when the shop lets its tills serve them
/// (`pos_serves_online` in the settings: collecting, refunding or taking cash for web orders at the
/// counter). An order a till may not see is "not found" to it, so its existence is not given away.
public enum OrderVisibility: Sendable, Equatable {
    case all
    /// A till at the location with this code; `online` when tills serve online orders too.
    case till(location: String, online: Bool)

    public func allows(_ order: Order) -> Bool {
        allows(channel: order.channel, location: order.location)
    }

    public func allows(channel: Cart.Channel, location: String?) -> Bool {
        switch self {
        case .all: true
        case .till(let code, let online): (channel == .pos && location == code) || (online && channel == .online)
        }
    }
}
