public import ShopfloorJSON

/// Flows as the back office edits them (API.md, Automation): made, changed (a new version when the
/// trigger, steps or exits change, so runs under way finish on the version they began with), listed,
/// with their runs and per-step figures. Running them is the ``FlowEngine``'s.
public final class FlowService: Sendable {
    private let store: any FlowStore
    private let writer: any StoreWriter
    private let engine: FlowEngine
    private let events: EventLog
    private let messages: MessageService
    private let currency: Currency
    private let clock: any WallClock

    public init(stores: Stores, engine: FlowEngine, events: EventLog, messages: MessageService, currency: Currency, clock: any WallClock) {
        self.events = events
        self.messages = messages
        store = stores.flows
        writer = stores.writer
        self.engine = engine
        self.currency = currency
        self.clock = clock
    }

    /// What a flow body gives: each member `nil` when absent (on `PATCH`, left as it is).
    public struct Input: Sendable {
        public var name: String?
        public var status: FlowStatus?
        public var trigger: JSONValue?
        public var steps: JSONValue?
        public var exitOn: JSONValue?

        public init(name: String?, status: FlowStatus?, trigger: JSONValue?, steps: JSONValue?, exitOn: JSONValue?) {
            self.name = name
            self.status = status
            self.trigger = trigger
            self.steps = steps
            self.exitOn = exitOn
        }
    }

    public func create(_ input: Input) async throws -> Flow {
        var validator = Validator()
        validator.text(input.name, "name", max: 200)
        let document = try checked(trigger: input.trigger, steps: input.steps, exitOn: input.exitOn, validator: validator)
        let stamp = clock.timestamp
        let flow = Flow(id: .make(), name: input.name!, status: input.status ?? .draft, version: 1, activeSince: events.publishedSeq,
                        document: document, createdAt: stamp, updatedAt: stamp)
        try await writer.write { [store] transaction in
            try store.insert(flow, in: transaction)
            try store.insertVersion(1, of: flow.id, document: document, at: stamp, in: transaction)
        }
        engine.flowsChanged()
        return flow
    }

    /// Makes the shipped flows (``ShippedFlows``) as drafts, each once: on the first start, and those a
    /// later release adds on its first start (a shop that edits them keeps what it did).
    public func installShipped() async throws {
        let documents = try ShippedFlows.documents()
        for (_, document) in documents {
            guard case .object(let members, _) = document else { continue }
            _ = try FlowDefinition.parse(trigger: members["trigger"], steps: members["steps"], exitOn: members["exit_on"],
                                         templates: Set(MessageTemplates.names), currency: currency)
        }
        let (store, stamp, since) = (store, clock.timestamp, events.publishedSeq)
        let installed = try await writer.write { transaction -> Bool in
            let made = try store.shippedInstalled(in: transaction)
            guard made < documents.count else { return false }
            try store.setShippedInstalled(documents.count, in: transaction)
            for (name, document) in documents.dropFirst(made) {
                let flow = Flow(id: .make(), name: name, status: .draft, version: 1, activeSince: since, document: document, createdAt: stamp,
                                updatedAt: stamp)
                try store.insert(flow, in: transaction)
                try store.insertVersion(1, of: flow.id, document: document, at: stamp, in: transaction)
            }
            return true
        }
        if installed { engine.flowsChanged() }
    }

    public func update(_ id: FlowID, _ input: Input) async throws -> Flow {
        var flow = try self.flow(id)
        var validator = Validator()
        if let name = input.name { validator.text(name, "name", max: 200) }
        let changesDefinition = input.trigger != nil || input.steps != nil || input.exitOn != nil
        var document = flow.document
        if changesDefinition {
            guard case .object(let members, _) = flow.document else { throw StoreError.badRow(table: "flow_versions", key: id.rawValue, column: "definition") }
            document = try checked(trigger: input.trigger ?? members["trigger"], steps: input.steps ?? members["steps"],
                                   exitOn: input.exitOn ?? members["exit_on"], validator: validator)
        } else {
            try validator.throwIfAny()
        }
        if let name = input.name { flow.name = name }
        if let status = input.status {
            // Made active again: events from now on enter it, not those of the time it was a draft.
            if status == .active, flow.status != .active { flow.activeSince = events.publishedSeq }
            flow.status = status
        }
        let stamp = clock.timestamp
        flow.updatedAt = stamp
        let newVersion = changesDefinition && document != flow.document
        if newVersion {
            flow.version += 1
            flow.document = document
        }
        let changed = flow
        try await writer.write { [store] transaction in
            try store.update(changed, in: transaction)
            if newVersion { try store.insertVersion(changed.version, of: changed.id, document: changed.document, at: stamp, in: transaction) }
        }
        engine.flowsChanged()
        return changed
    }

    public func flow(_ id: FlowID) throws -> Flow {
        guard let found = try store.flow(id)?.flow else { throw AutomationError.flowNotFound(id.rawValue) }
        return found
    }

    public func flows(limit: Int, before: Int64?) throws -> Page<Flow> {
        let limit = max(1, min(limit, 200))
        return Page(try store.flows(before: before ?? Int64.max, limit: limit + 1), limit: limit, position: \.position, item: \.flow)
    }

    public func runs(of id: FlowID, status: RunStatus?, limit: Int, before: Int64?) throws -> Page<FlowRun> {
        _ = try flow(id)
        let limit = max(1, min(limit, 200))
        return Page(try store.runs(of: id, status: status, before: before ?? Int64.max, limit: limit + 1), limit: limit, position: \.position,
                    item: \.run)
    }

    public func run(_ id: RunID) throws -> FlowRun {
        guard let run = try store.run(id) else { throw AutomationError.runNotFound(id.rawValue) }
        return run
    }

    /// Per-step figures of a flow (API.md, `GET /v1/flows/{id}/stats`): every step of its current
    /// version, with the variant of an A/B split it sits in, and the counters its runs have added up.
    public func stats(of id: FlowID) throws -> FlowStats {
        let flow = try flow(id)
        let definition = try engine.definition(of: flow.id, version: flow.version)
        // Steps count what runs did; messages count what became of them.
        var counters = try store.counters(of: id)
        for (step, outcomes) in try messages.outcomes(of: id.rawValue) {
            counters[step, default: [:]].merge(outcomes) { $0 + $1 }
        }
        let steps = definition.allSteps.map { path, step in
            let name = FlowDefinition.name(of: path)
            return FlowStats.Step(step: name, kind: step.kind, variant: definition.variant(of: path), counters: counters[name] ?? [:])
        }
        return FlowStats(flowID: id, version: flow.version, entered: counters[""]?["entered"] ?? 0, exited: counters.values.reduce(0) { $0 + ($1["exited"] ?? 0) },
                         steps: steps, currency: currency)
    }

    /// What became of the messages of every flow with `trigger`, added up: `sent`, `opened`, `clicked`…
    public func outcomes(ofFlowsWith trigger: FlowTrigger) throws -> [String: Int64] {
        var total: [String: Int64] = [:]
        for (_, flow) in try store.flows(before: .max, limit: 10_000)
        where (try? engine.definition(of: flow.id, version: flow.version).trigger) == trigger {
            for outcomes in try messages.outcomes(of: flow.id.rawValue).values { total.merge(outcomes) { $0 + $1 } }
        }
        return total
    }

    /// Checks a definition whole, with the name's findings, and returns it as stored.
    private func checked(trigger: JSONValue?, steps: JSONValue?, exitOn: JSONValue?, validator: Validator) throws -> JSONValue {
        var errors = validator.errors
        do {
            _ = try FlowDefinition.parse(trigger: trigger, steps: steps, exitOn: exitOn, templates: Set(MessageTemplates.names), currency: currency)
        } catch {
            errors += error.errors
        }
        if !errors.isEmpty { throw ValidationError(errors) }
        var members: [String: JSONValue] = ["trigger": trigger!, "steps": steps!]
        var order = ["trigger", "steps"]
        if let exitOn, exitOn != .null {
            members["exit_on"] = exitOn
            order.append("exit_on")
        }
        return .object(members, order: order)
    }
}

/// A flow's figures, per step of its current version.
public struct FlowStats: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        /// The step's path (`2.1.0`).
        public var step: String
        public var kind: String
        /// The split arm it sits in, if any.
        public var variant: Int?
        /// `entered`, `sent`, `failed`, `skipped`, `unsent`, `exited`, `opened`, `clicked`, `converted`,
        /// `revenue` (minor units of the shop's currency)…
        public var counters: [String: Int64]
    }

    public var flowID: FlowID
    public var version: Int
    public var entered: Int64
    public var exited: Int64
    public var steps: [Step]
    /// The shop's currency, which `revenue` is in.
    public var currency: Currency
}
