import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Stock cover for admins (API.md, Automation): what runs out before it can be reordered, and each
/// product's lead time.
struct StockCoverRoutes {
    let cover: StockCoverService

    func register(on router: inout Router) {
        router.on(.get, "/v1/stock-cover") { request, context in
            try context.require(.admin)
            let query = request.queryParameters
            var below: Duration?
            if let raw = query["below"] {
                guard let duration = Configuration.parseDuration(raw), duration > .zero, duration <= .seconds(3650 * 86_400) else {
                    throw APIError.invalidRequest(detail: "below must be a duration such as 7d or 36h.")
                }
                below = duration
            }
            let location = query["location"]
            if let location, location.isEmpty || location.utf8.count > 64 { throw APIError.invalidRequest(detail: "location is not valid.") }
            return try JSON.response(CoverList(items: try cover.cover(below: below, location: location).map(StockCoverDTO.init)))
        }
        router.on(.put, "/v1/products/{id}/lead-time") { request, context in
            try context.require(.admin)
            let (body, document) = try request.decodeWithDocument(LeadTimeDTO.self)
            guard body.days != nil || document.hasNullMember("days") else { throw ValidationError(field: "days", detail: "is required (null for the default)") }
            let product = ProductID(rawValue: try context.parameter("id"))
            try await cover.setLeadTime(body.days, of: product)
            return try JSON.response(LeadTimeAnswer(productID: product.rawValue, days: body.days ?? StockCoverService.defaultLeadTimeDays,
                                                    isDefault: body.days == nil))
        }
    }
}

private struct LeadTimeDTO: Decodable {
    var days: Int?
}

private struct LeadTimeAnswer: Encodable {
    var productID: String
    var days: Int
    /// The shop's default, the product having none of its own.
    var isDefault: Bool
}

private struct CoverList: Encodable {
    var items: [StockCoverDTO]
}

/// One SKU at one location (API.md, Stock cover).
struct StockCoverDTO: Encodable {
    var sku: String
    var location: String
    var available: Int
    var soldPerDay: Double
    @Nullable var daysOfCover: Double?
    var leadTimeDays: Int

    init(_ cover: StockCover) {
        sku = cover.sku
        location = cover.location
        available = cover.available
        soldPerDay = (cover.soldPerDay * 100).rounded() / 100
        daysOfCover = cover.daysOfCover.map { ($0 * 10).rounded() / 10 }
        leadTimeDays = cover.leadTimeDays
    }
}
