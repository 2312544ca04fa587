import ShopfloorDomain

/// Which orders a key may see (``OrderVisibility``), over HTTP and on the event channel alike: every
/// order for an admin; for a till its own location's, and the online ones when the shop's
/// `pos_serves_online` setting is on (read at each request, so a change applies at once).
struct OrderAccess: Sendable {
    let locations: LocationService
    let pricing: PricingService

    func visibility(for principal: Principal) throws -> OrderVisibility {
        guard principal.role == .pos else { return .all }
        guard let own = principal.locationID, let location = try locations.find(own.rawValue) else { throw APIError.forbidden(required: [.admin]) }
        return .till(location: location.code, online: pricing.rules.settings.posServesOnline)
    }
}
