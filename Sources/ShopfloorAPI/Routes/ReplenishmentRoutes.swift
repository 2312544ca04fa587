import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Replenishment (API.md, Automation): a product's interval (admin), the report (admin), and a
/// proposal read, confirmed or put off by whoever holds its link (the customer, from their email).
struct ReplenishmentRoutes {
    let replenishment: ReplenishmentService
    let checkout: ProposalCheckout
    let flows: FlowService
    let currency: Currency

    func register(on router: inout Router) {
        router.on(.put, "/v1/products/{id}/replenishment") { request, context in
            try context.require(.admin)
            let (body, document) = try request.decodeWithDocument(IntervalDTO.self)
            guard body.intervalDays != nil || document.hasNullMember("interval_days") else {
                throw ValidationError(field: "interval_days", detail: "is required (null takes the product out of replenishment)")
            }
            let product = ProductID(rawValue: try context.parameter("id"))
            try await replenishment.setInterval(body.intervalDays, of: product)
            return try JSON.response(IntervalAnswer(productID: product.rawValue, intervalDays: body.intervalDays))
        }
        router.on(.get, "/v1/replenishment/report") { _, context in
            try context.require(.admin)
            let (counts, revenue) = try replenishment.report()
            let outcomes = try flows.outcomes(ofFlowsWith: .replenishmentDue)
            return try JSON.response(ReportDTO(
                proposals: Dictionary(uniqueKeysWithValues: ProposalStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
                reminders: ReportDTO.Reminders(sent: outcomes["sent"] ?? 0, opened: outcomes["opened"] ?? 0, clicked: outcomes["clicked"] ?? 0),
                confirmedRevenue: Money(amount: revenue, currency: currency)))
        }
        router.on(.get, "/v1/proposals/{token}") { _, context in
            let token = try context.parameter("token")
            return try JSON.response(ProposalDTO(try replenishment.proposal(token: token), now: replenishment.timestamp))
        }
        router.on(.post, "/v1/proposals/{token}/confirm") { _, context in
            let (proposal, order) = try await checkout.confirm(token: try context.parameter("token"))
            return try JSON.response(ConfirmedDTO(proposal: ProposalDTO(proposal, now: proposal.decidedAt ?? ""),
                                                  order: ConfirmedDTO.OrderSummary(order)), status: .created)
        }
        router.on(.post, "/v1/proposals/{token}/postpone") { request, context in
            let body = try request.decode(PostponeDTO.self)
            let proposal = try await checkout.postpone(token: try context.parameter("token"), days: body.days, wishlist: body.wishlist ?? false)
            return try JSON.response(ProposalDTO(proposal, now: proposal.decidedAt ?? ""))
        }
    }
}

private struct IntervalDTO: Decodable {
    var intervalDays: Int?
}

private struct IntervalAnswer: Encodable {
    var productID: String
    @Nullable var intervalDays: Int?
}

private struct PostponeDTO: Decodable {
    var days: Int?
    var wishlist: Bool?
}

private struct ReportDTO: Encodable {
    struct Reminders: Encodable {
        var sent: Int64
        var opened: Int64
        var clicked: Int64
    }

    /// Proposals by status.
    var proposals: [String: Int]
    /// What the `replenishment.due` flows' messages became.
    var reminders: Reminders
    /// The total of the orders confirmed proposals became.
    var confirmedRevenue: Money
}

/// A proposal as its link shows it: the predicted cart.
struct ProposalDTO: Encodable {
    var id: String
    var status: ProposalStatus
    var items: [Item]
    var total: Money
    var createdAt: String
    var expiresAt: String
    @Nullable var decidedAt: String?
    @Nullable var orderID: String?

    struct Item: Encodable {
        var sku: String
        var title: String
        var quantity: Int
        var unitPrice: Money
        var lineTotal: Money
    }

    init(_ proposal: Proposal, now: String) {
        id = proposal.id.rawValue
        status = proposal.status(at: now)
        items = proposal.items.map { item in
            Item(sku: item.sku, title: item.title, quantity: item.quantity, unitPrice: item.unitPrice,
                 lineTotal: Money(amount: item.unitPrice.amount * Int64(item.quantity), currency: item.unitPrice.currency))
        }
        let currency = proposal.items.first?.unitPrice.currency ?? Currency("GBP")!
        total = Money(amount: items.reduce(0) { $0 + $1.lineTotal.amount }, currency: currency)
        createdAt = proposal.createdAt
        expiresAt = proposal.expiresAt
        decidedAt = proposal.decidedAt
        orderID = proposal.orderID?.rawValue
    }
}

/// `POST /v1/proposals/{token}/confirm`: the proposal and the order it became.
private struct ConfirmedDTO: Encodable {
    struct OrderSummary: Encodable {
        var id: String
        var number: String
        var status: OrderStatus
        var total: Money
        var trackingToken: String

        init(_ order: Order) {
            id = order.id.rawValue
            number = order.number
            status = order.status
            total = order.totals.total
            trackingToken = order.trackingToken
        }
    }

    var proposal: ProposalDTO
    var order: OrderSummary
}
