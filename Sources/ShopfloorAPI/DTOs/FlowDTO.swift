import ShopfloorDomain
import ShopfloorJSON

/// A flow as the API shows it (API.md, Automation): its definition as the shop wrote it.
struct FlowDTO: Encodable {
    var id: String
    var name: String
    var status: FlowStatus
    var version: Int
    var trigger: JSONValue
    var steps: JSONValue
    var exitOn: JSONValue
    var createdAt: String
    var updatedAt: String

    init(_ flow: Flow) {
        id = flow.id.rawValue
        name = flow.name
        status = flow.status
        version = flow.version
        var members: [String: JSONValue] = [:]
        if case .object(let stored, _) = flow.document { members = stored }
        trigger = members["trigger"] ?? .null
        steps = members["steps"] ?? .array([])
        exitOn = members["exit_on"] ?? .array([.string(FlowExit.orderPlaced.rawValue)])
        createdAt = flow.createdAt
        updatedAt = flow.updatedAt
    }
}

/// The members of a `POST` or `PATCH /v1/flows…` body that are not the definition's own JSON.
struct FlowBody: Decodable {
    var name: String?
    var status: FlowStatus?
}

/// One run of a flow: where it stands and what it did.
struct FlowRunDTO: Encodable {
    var id: String
    var flowID: String
    var version: Int
    var status: RunStatus
    var entryKey: String
    @Nullable var customerID: String?
    @Nullable var cartID: String?
    @Nullable var orderID: String?
    /// The step it is at (`2.1.0`), `null` once past the last.
    @Nullable var step: String?
    @Nullable var nextAt: String?
    @Nullable var exitReason: String?
    @Nullable var offerCode: String?
    var log: [LogEntry]
    var enteredAt: String
    var updatedAt: String

    struct LogEntry: Encodable {
        var at: String
        @Nullable var step: String?
        var what: String
        @Nullable var detail: String?
    }

    init(_ run: FlowRun) {
        id = run.id.rawValue
        flowID = run.flowID.rawValue
        version = run.version
        status = run.status
        entryKey = run.entryKey
        customerID = run.customerID?.rawValue
        cartID = run.cartID?.rawValue
        orderID = run.orderID?.rawValue
        step = run.status == .active ? run.state.position.map(FlowDefinition.name(of:)) : nil
        nextAt = run.nextAt
        exitReason = run.exitReason
        offerCode = run.state.offer?.code
        log = run.state.log.map { LogEntry(at: $0.at, step: $0.step, what: $0.what, detail: $0.detail) }
        enteredAt = run.enteredAt
        updatedAt = run.updatedAt
    }
}

/// `GET /v1/flows/{id}/stats`.
struct FlowStatsDTO: Encodable {
    var flowID: String
    var version: Int
    var entered: Int64
    var exited: Int64
    var steps: [Step]

    struct Step: Encodable {
        var step: String
        var type: String
        @Nullable var variant: Int?
        var entered: Int64
        var sent: Int64
        var failed: Int64
        var skipped: Int64
        var unsent: Int64
        var exited: Int64
        var opened: Int64
        var clicked: Int64
        var converted: Int64
        var revenue: Money
    }

    init(_ stats: FlowStats) {
        flowID = stats.flowID.rawValue
        version = stats.version
        entered = stats.entered
        exited = stats.exited
        steps = stats.steps.map { step in
            Step(step: step.step, type: step.kind, variant: step.variant, entered: step.counters["entered"] ?? 0, sent: step.counters["sent"] ?? 0,
                 failed: step.counters["failed"] ?? 0, skipped: step.counters["skipped"] ?? 0, unsent: step.counters["unsent"] ?? 0,
                 exited: step.counters["exited"] ?? 0, opened: step.counters["opened"] ?? 0, clicked: step.counters["clicked"] ?? 0,
                 converted: step.counters["converted"] ?? 0, revenue: Money(amount: step.counters["revenue"] ?? 0, currency: stats.currency))
        }
    }
}

/// A task for staff.
struct TaskDTO: Encodable {
    var id: String
    var text: String
    var status: TaskStatus
    @Nullable var customerID: String?
    @Nullable var orderID: String?
    @Nullable var flowID: String?
    @Nullable var runID: String?
    var createdAt: String
    @Nullable var doneAt: String?
    @Nullable var doneBy: String?

    init(_ task: StaffTask) {
        id = task.id.rawValue
        text = task.text
        status = task.status
        customerID = task.customerID?.rawValue
        orderID = task.orderID?.rawValue
        flowID = task.flowID?.rawValue
        runID = task.runID?.rawValue
        createdAt = task.createdAt
        doneAt = task.doneAt
        doneBy = task.doneBy
    }
}

/// `POST /v1/campaigns` body.
struct NewCampaignDTO: Decodable {
    var name: String?
    var segment: String
    var channel: MessageChannel
    var template: String
    var sendAt: String?
}

/// A campaign with its figures so far.
struct CampaignDTO: Encodable {
    var id: String
    var name: String
    var segment: String
    var channel: MessageChannel
    var template: String
    var status: CampaignStatus
    var sendAt: String
    @Nullable var startedAt: String?
    @Nullable var finishedAt: String?
    var stats: Stats
    var createdAt: String
    var updatedAt: String

    struct Stats: Encodable {
        /// Customers of the segment handled so far.
        var recipients: Int
        /// Of those, how many got no message, by why.
        var passedOver: [String: Int]
        var sent: Int64
        var failed: Int64
        var skipped: Int64
        var opened: Int64
        var clicked: Int64
        var converted: Int64
        var revenue: Money
    }

    init(_ campaign: Campaign, outcomes: [String: Int64], currency: Currency) {
        id = campaign.id.rawValue
        name = campaign.name
        segment = campaign.segmentID.rawValue
        channel = campaign.channel
        template = campaign.template
        status = campaign.status
        sendAt = campaign.sendAt
        startedAt = campaign.startedAt
        finishedAt = campaign.finishedAt
        stats = Stats(
            recipients: campaign.recipients, passedOver: campaign.passedOver, sent: outcomes["sent"] ?? 0, failed: outcomes["failed"] ?? 0,
            skipped: outcomes["skipped"] ?? 0, opened: outcomes["opened"] ?? 0, clicked: outcomes["clicked"] ?? 0,
            converted: outcomes["converted"] ?? 0, revenue: Money(amount: outcomes["revenue"] ?? 0, currency: currency))
        createdAt = campaign.createdAt
        updatedAt = campaign.updatedAt
    }
}
