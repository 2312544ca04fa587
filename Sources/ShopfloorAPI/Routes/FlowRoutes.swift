import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// Flows for admins (API.md, Automation): made, listed, changed (a new version when the definition
/// changes), their runs and per-step figures; campaigns, made, listed, cancelled, with their figures;
/// and tasks for staff, listed and marked done.
struct FlowRoutes {
    let flows: FlowService
    let campaigns: CampaignService
    let tasks: TaskService
    let currency: Currency

    func register(on router: inout Router) {
        router.on(.post, "/v1/flows") { request, context in
            try context.require(.admin)
            let made = try await flows.create(try Self.input(request))
            return try JSON.response(FlowDTO(made), status: .created)
        }
        router.on(.get, "/v1/flows") { request, context in
            try context.require(.admin)
            let page = try flows.flows(limit: try request.limit(), before: try CustomerRoutes.cursor(request))
            return try JSON.response(Page(items: page.items.map(FlowDTO.init), nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/flows/{id}") { _, context in
            try context.require(.admin)
            return try JSON.response(FlowDTO(try flows.flow(FlowID(rawValue: try context.parameter("id")))))
        }
        router.on(.patch, "/v1/flows/{id}") { request, context in
            try context.require(.admin)
            let changed = try await flows.update(FlowID(rawValue: try context.parameter("id")), try Self.input(request))
            return try JSON.response(FlowDTO(changed))
        }
        router.on(.get, "/v1/flows/{id}/runs") { request, context in
            try context.require(.admin)
            var status: RunStatus?
            if let raw = request.queryParameters["status"] {
                guard let parsed = RunStatus(rawValue: raw) else {
                    throw APIError.invalidRequest(detail: "status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                status = parsed
            }
            let page = try flows.runs(of: FlowID(rawValue: try context.parameter("id")), status: status, limit: try request.limit(),
                                      before: try CustomerRoutes.cursor(request))
            return try JSON.response(Page(items: page.items.map(FlowRunDTO.init), nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/flows/{id}/runs/{run}") { _, context in
            try context.require(.admin)
            let run = try flows.run(RunID(rawValue: try context.parameter("run")))
            guard run.flowID.rawValue == (try context.parameter("id")) else { throw AutomationError.runNotFound(run.id.rawValue) }
            return try JSON.response(FlowRunDTO(run))
        }
        router.on(.get, "/v1/flows/{id}/stats") { _, context in
            try context.require(.admin)
            return try JSON.response(FlowStatsDTO(try flows.stats(of: FlowID(rawValue: try context.parameter("id")))))
        }
        router.on(.post, "/v1/campaigns") { request, context in
            try context.require(.admin)
            let (body, document) = try request.decodeWithDocument(NewCampaignDTO.self)
            if case .object(let members, _) = document,
               let unknown = members.keys.sorted().first(where: { !["name", "segment", "channel", "template", "send_at"].contains($0) }) {
                throw ValidationError(field: unknown, detail: "is not a member of a campaign")
            }
            let made = try await campaigns.create(
                .init(name: body.name, segment: body.segment, channel: body.channel, template: body.template, sendAt: body.sendAt))
            return try JSON.response(CampaignDTO(made, outcomes: [:], currency: currency), status: .created)
        }
        router.on(.get, "/v1/campaigns") { request, context in
            try context.require(.admin)
            let page = try campaigns.campaigns(limit: try request.limit(), before: try CustomerRoutes.cursor(request))
            return try JSON.response(Page(items: try page.items.map { CampaignDTO($0, outcomes: try campaigns.outcomes(of: $0.id), currency: currency) },
                                          nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/campaigns/{id}") { _, context in
            try context.require(.admin)
            let campaign = try campaigns.campaign(CampaignID(rawValue: try context.parameter("id")))
            return try JSON.response(CampaignDTO(campaign, outcomes: try campaigns.outcomes(of: campaign.id), currency: currency))
        }
        router.on(.post, "/v1/campaigns/{id}/cancel") { _, context in
            try context.require(.admin)
            let campaign = try await campaigns.cancel(CampaignID(rawValue: try context.parameter("id")))
            return try JSON.response(CampaignDTO(campaign, outcomes: try campaigns.outcomes(of: campaign.id), currency: currency))
        }
        router.on(.get, "/v1/tasks") { request, context in
            try context.require(.admin, .pos)
            var status: TaskStatus?
            if let raw = request.queryParameters["status"] {
                guard let parsed = TaskStatus(rawValue: raw) else { throw APIError.invalidRequest(detail: "status must be open or done.") }
                status = parsed
            }
            let page = try tasks.tasks(status: status, limit: try request.limit(), before: try CustomerRoutes.cursor(request))
            return try JSON.response(Page(items: page.items.map(TaskDTO.init), nextCursor: page.nextCursor))
        }
        router.on(.post, "/v1/tasks/{id}/done") { _, context in
            let principal = try context.require(.admin, .pos)
            return try JSON.response(TaskDTO(try await tasks.done(TaskID(rawValue: try context.parameter("id")), by: principal.keyID.rawValue)))
        }
    }

    /// A flow body: name and status decoded, the definition's members taken from the parsed document
    /// as written (their keys are the flow's own). A definition nested past the parser's depth is the
    /// definition's fault, so it is a 422 naming `steps` rather than the 400 of a body that is not JSON.
    private static func input(_ request: HTTPServerRequest) throws -> FlowService.Input {
        do {
            let (body, document) = try request.decodeWithDocument(FlowBody.self)
            guard case .object(let members, _) = document else { throw APIError.invalidRequest(detail: "The body must be a JSON object.") }
            let known: Set<String> = ["name", "status", "trigger", "steps", "exit_on"]
            if let unknown = members.keys.sorted().first(where: { !known.contains($0) }) {
                throw ValidationError(field: unknown, detail: "is not a member of a flow")
            }
            func member(_ name: String) -> JSONValue? {
                guard let value = members[name], value != .null else { return nil }
                return value
            }
            return FlowService.Input(name: body.name, status: body.status, trigger: member("trigger"), steps: member("steps"),
                                     exitOn: members["exit_on"])
        } catch let failure as JSONParser.Failure where failure.reason == .tooDeep {
            throw ValidationError(field: "steps", detail: "nests too deep")
        }
    }
}
