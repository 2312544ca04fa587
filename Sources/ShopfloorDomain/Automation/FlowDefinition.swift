public import ShopfloorJSON

/// What a flow does, parsed from the JSON the shop wrote (API.md, Automation) and checked whole: every
/// failing member is reported by its path (`steps[2].send.channel`), and nothing is stored.
public struct FlowDefinition: Sendable, Equatable {
    public var trigger: FlowTrigger
    public var steps: [FlowStep]
    /// What ends a run early; by default the shopper ordering.
    public var exitOn: Set<FlowExit>

    /// At most this many steps in a flow, counting those inside branches.
    public static let maxSteps = 100
    /// Branches (`if`, `split`) nest at most this deep.
    public static let maxDepth = 5

    public init(trigger: FlowTrigger, steps: [FlowStep], exitOn: Set<FlowExit>) {
        self.trigger = trigger
        self.steps = steps
        self.exitOn = exitOn
    }

    /// Parses `trigger`, `steps` and `exit_on` of a flow body. `templates` are the names a `send` may
    /// use; `currency` is the shop's (fixed offers, money in `if` filters).
    public static func parse(trigger: JSONValue?, steps: JSONValue?, exitOn: JSONValue?, templates: Set<String>,
                             currency: Currency) throws(ValidationError) -> FlowDefinition {
        var parser = Parser(templates: templates, currency: currency)
        let trigger = parser.trigger(trigger)
        let steps = parser.steps(steps, "steps", depth: 0)
        let exits = parser.exits(exitOn)
        parser.check(parser.count <= maxSteps, "steps", "must hold at most \(maxSteps) steps in all")
        parser.check(parser.count > 0 || !parser.errors.isEmpty, "steps", "must hold at least one step")
        if !parser.errors.isEmpty { throw ValidationError(parser.errors) }
        return FlowDefinition(trigger: trigger ?? .orderPlaced, steps: steps, exitOn: exits)
    }

    /// Parses a stored definition: an object with `trigger`, `steps` and `exit_on`.
    public static func parse(_ document: JSONValue, templates: Set<String>, currency: Currency) throws(ValidationError) -> FlowDefinition {
        guard case .object(let members, _) = document else { throw ValidationError(field: "definition", detail: "must be an object") }
        return try parse(trigger: members["trigger"], steps: members["steps"], exitOn: members["exit_on"], templates: templates, currency: currency)
    }

    // MARK: Positions

    /// The step at `path`: indices into the step lists, each branch step followed by the branch taken
    /// (`[2, 1, 0]`: the first step of the second branch of step 2).
    public func step(at path: [Int]) -> FlowStep? {
        var list = steps
        var index = 0
        while index < path.count {
            guard path[index] >= 0, path[index] < list.count else { return nil }
            let step = list[path[index]]
            if index == path.count - 1 { return step }
            guard let branches = step.branches, path[index + 1] >= 0, path[index + 1] < branches.count else { return nil }
            list = branches[path[index + 1]]
            index += 2
        }
        return nil
    }

    /// The first step at or after `path` in reading order, leaving branches that have ended;
    /// `nil` when the flow has none left.
    public func settle(_ path: [Int]) -> [Int]? {
        var path = path
        while !path.isEmpty, step(at: path) == nil {
            if path.count == 1 { return nil }
            path.removeLast(2)
            path[path.count - 1] += 1
        }
        return path.isEmpty ? nil : path
    }

    /// Where a run goes after the step at `path`.
    public func next(after path: [Int]) -> [Int]? {
        var path = path
        path[path.count - 1] += 1
        return settle(path)
    }

    /// Where a run goes on taking `branch` of the branch step at `path`.
    public func enter(branch: Int, at path: [Int]) -> [Int]? {
        settle(path + [branch, 0])
    }

    /// The first step, for a new run.
    public var start: [Int]? { settle([0]) }

    /// A step's name in stats and run logs: its path joined by dots (`2.1.0`).
    public static func name(of path: [Int]) -> String {
        path.map(String.init).joined(separator: ".")
    }

    /// The A/B variant a path is in: the branch taken at its innermost `split`, if any.
    public func variant(of path: [Int]) -> Int? {
        var found: Int?
        var index = 0
        while index + 1 < path.count {
            if case .split? = step(at: Array(path[...index])) { found = path[index + 1] }
            index += 2
        }
        return found
    }

    /// Every step with its path, in reading order.
    public var allSteps: [(path: [Int], step: FlowStep)] {
        var found: [(path: [Int], step: FlowStep)] = []
        func walk(_ list: [FlowStep], _ prefix: [Int]) {
            for (index, step) in list.enumerated() {
                found.append((prefix + [index], step))
                for (branch, steps) in (step.branches ?? []).enumerated() { walk(steps, prefix + [index, branch]) }
            }
        }
        walk(steps, [])
        return found
    }

    // MARK: Parsing

    private struct Parser {
        let templates: Set<String>
        let currency: Currency
        var errors: [FieldError] = []
        var count = 0

        mutating func check(_ condition: Bool, _ field: String, _ detail: String) {
            if !condition { errors.append(FieldError(field: field, detail: detail)) }
        }

        mutating func trigger(_ value: JSONValue?) -> FlowTrigger? {
            guard case .object(let members, _)? = value else {
                check(false, "trigger", "is required: an object with a type")
                return nil
            }
            guard case .string(let type)? = members["type"] else {
                check(false, "trigger.type", "is required")
                return nil
            }
            let allowed: Set<String> = switch type {
            case "cart.abandoned": ["type", "after", "channel"]
            case "checkout.abandoned": ["type", "after"]
            default: ["type"]
            }
            for key in members.keys where !allowed.contains(key) { check(false, "trigger.\(key)", "is not a member of a \(type) trigger") }
            switch type {
            case "cart.abandoned", "checkout.abandoned":
                var after: Int64 = 3600
                if let text = members["after"] {
                    guard let seconds = duration(text, "trigger.after", range: 60...(30 * 86_400)) else { return nil }
                    after = seconds
                }
                var channel = Cart.Channel.online
                if let value = members["channel"] {
                    guard case .string(let name) = value, let named = Cart.Channel(rawValue: name) else {
                        check(false, "trigger.channel", "must be online or pos")
                        return nil
                    }
                    channel = named
                }
                return type == "cart.abandoned" ? .cartAbandoned(after: after, channel: channel) : .checkoutAbandoned(after: after)
            case "cart.expired": return .cartExpired
            case "order.placed": return .orderPlaced
            case "order.delivered": return .orderDelivered
            case "customer.created": return .customerCreated
            case "replenishment.due": return .replenishmentDue
            case "back_in_stock": return .backInStock
            default:
                check(false, "trigger.type", """
                    must be one of cart.abandoned, checkout.abandoned, cart.expired, order.placed, order.delivered, customer.created, \
                    replenishment.due, back_in_stock
                    """)
                return nil
            }
        }

        mutating func exits(_ value: JSONValue?) -> Set<FlowExit> {
            guard let value, value != .null else { return [.orderPlaced] }
            guard case .array(let items) = value, items.count <= FlowExit.allCases.count else {
                check(false, "exit_on", "must be a list of at most \(FlowExit.allCases.count) events")
                return []
            }
            var exits: Set<FlowExit> = []
            for (index, item) in items.enumerated() {
                guard case .string(let name) = item, let exit = FlowExit(rawValue: name) else {
                    check(false, "exit_on[\(index)]", "must be one of \(FlowExit.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                exits.insert(exit)
            }
            return exits
        }

        mutating func steps(_ value: JSONValue?, _ path: String, depth: Int) -> [FlowStep] {
            guard case .array(let items)? = value else {
                check(false, path, "must be a list of steps")
                return []
            }
            guard depth <= FlowDefinition.maxDepth else {
                check(false, path, "nests deeper than \(FlowDefinition.maxDepth) branches")
                return []
            }
            var steps: [FlowStep] = []
            for (index, item) in items.enumerated() {
                count += 1
                guard count <= FlowDefinition.maxSteps else { return steps }
                if let step = step(item, "\(path)[\(index)]", depth: depth) { steps.append(step) }
            }
            return steps
        }

        private mutating func step(_ value: JSONValue, _ path: String, depth: Int) -> FlowStep? {
            guard case .object(let members, _) = value else {
                check(false, path, "must be an object such as {\"wait\":\"2h\"}")
                return nil
            }
            let kinds = ["wait", "send", "offer", "if", "split", "task"].filter { members[$0] != nil }
            guard kinds.count == 1, let kind = kinds.first else {
                check(false, path, "must have exactly one of wait, send, offer, if, split, task")
                return nil
            }
            let allowed: Set<String> = kind == "if" ? ["if", "then", "else"] : [kind]
            for key in members.keys where !allowed.contains(key) { check(false, "\(path).\(key)", "is not a member of a \(kind) step") }
            let body = members[kind]!
            switch kind {
            case "wait":
                return duration(body, "\(path).wait", range: 1...(365 * 86_400)).map { .wait(seconds: $0) }
            case "send":
                return send(body, "\(path).send").map { .send($0) }
            case "offer":
                return offer(body, "\(path).offer").map { .offer($0) }
            case "if":
                let filter = condition(body, "\(path).if")
                let then = steps(members["then"] ?? .array([]), "\(path).then", depth: depth + 1)
                let otherwise = steps(members["else"] ?? .array([]), "\(path).else", depth: depth + 1)
                return filter.map { .branch(condition: $0, then: then, otherwise: otherwise) }
            case "split":
                return split(body, path + ".split", depth: depth).map { .split($0) }
            default:
                return task(body, "\(path).task").map { .task(text: $0) }
            }
        }

        /// An `if`: the run's last message (`{"message":"not_opened"}`), its proposal
        /// (`{"proposal":"open"}`), or else a segment filter over its customer.
        private mutating func condition(_ value: JSONValue, _ path: String) -> FlowCondition? {
            if case .object(let members, _) = value, members.count == 1, let key = members.keys.first, key == "message" || key == "proposal" {
                let text: String? = if case .string(let text)? = members[key] { text } else { nil }
                if key == "message" {
                    guard let engagement = text.flatMap(FlowCondition.Engagement.init(rawValue:)) else {
                        check(false, "\(path).message", "must be not_opened, opened_not_clicked or clicked")
                        return nil
                    }
                    return .message(engagement)
                }
                guard let status = text.flatMap(ProposalStatus.init(rawValue:)) else {
                    check(false, "\(path).proposal", "must be open, confirmed, postponed, wishlisted or expired")
                    return nil
                }
                return .proposal(status)
            }
            do {
                return .segment(try SegmentFilter.parse(value, currency: currency, path: path))
            } catch {
                errors += error.errors
                return nil
            }
        }

        private mutating func send(_ value: JSONValue, _ path: String) -> SendStep? {
            guard case .object(let members, _) = value else {
                check(false, path, "must be an object with channel and template")
                return nil
            }
            for key in members.keys where !["channel", "template", "fallback", "transactional", "window", "timeout"].contains(key) {
                check(false, "\(path).\(key)", "is not a member of send")
            }
            let channel = channel(members["channel"], "\(path).channel")
            var template: String?
            if case .string(let name)? = members["template"], templates.contains(name) {
                template = name
            } else {
                check(false, "\(path).template", "must name a template: \(templates.sorted().joined(separator: ", "))")
            }
            var fallback: [MessageChannel] = []
            if let list = members["fallback"] {
                if case .array(let items) = list, items.count <= 2 {
                    for (index, item) in items.enumerated() {
                        if let next = self.channel(item, "\(path).fallback[\(index)]") { fallback.append(next) }
                    }
                } else {
                    check(false, "\(path).fallback", "must be a list of at most two channels")
                }
            }
            let chain = (channel.map { [$0] } ?? []) + fallback
            check(Set(chain).count == chain.count, "\(path).fallback", "must not repeat a channel")
            var transactional = false
            if let flag = members["transactional"] {
                if case .bool(let value) = flag { transactional = value } else { check(false, "\(path).transactional", "must be true or false") }
            }
            let window = members["window"].flatMap { duration($0, "\(path).window", range: 0...(7 * 86_400)) } ?? SendStep.defaultWindow
            let timeout = members["timeout"].flatMap { duration($0, "\(path).timeout", range: 60...(7 * 86_400)) } ?? SendStep.defaultTimeout
            guard let channel, let template else { return nil }
            return SendStep(channels: [channel] + fallback, template: template, transactional: transactional, window: window, timeout: timeout)
        }

        private mutating func channel(_ value: JSONValue?, _ path: String) -> MessageChannel? {
            guard case .string(let name)? = value, let channel = MessageChannel(rawValue: name) else {
                check(false, path, "must be push, sms or email")
                return nil
            }
            return channel
        }

        private mutating func offer(_ value: JSONValue, _ path: String) -> OfferStep? {
            guard case .object(let members, _) = value else {
                check(false, path, "must be an object with kind, value and expires_in")
                return nil
            }
            for key in members.keys where !["kind", "value", "expires_in"].contains(key) { check(false, "\(path).\(key)", "is not a member of offer") }
            guard case .string(let name)? = members["kind"], let kind = Discount.Kind(rawValue: name) else {
                check(false, "\(path).kind", "must be percent, fixed or free_shipping")
                return nil
            }
            var amount: Int64 = 0
            var currency: Currency?
            switch (kind, members["value"]) {
            case (.percent, .integer(let percent)?):
                check((1...100).contains(percent), "\(path).value", "must be a percentage from 1 to 100")
                amount = percent
            case (.fixed, .object(let money, _)?):
                if case .integer(let units)? = money["amount"], case .string(let code)? = money["currency"], code == self.currency.code {
                    check((1...100_000_000_000).contains(units), "\(path).value.amount", "must be from 1 to 100000000000")
                    amount = units
                    currency = self.currency
                } else {
                    check(false, "\(path).value", "must be Money in the shop's currency, \(self.currency.code)")
                }
            case (.freeShipping, nil):
                break
            case (.percent, _): check(false, "\(path).value", "must be a whole percentage for a percent offer")
            case (.fixed, _): check(false, "\(path).value", "must be Money ({\"amount\",\"currency\"}) for a fixed offer")
            case (.freeShipping, _): check(false, "\(path).value", "is not used by free_shipping offers")
            }
            guard let expires = members["expires_in"].flatMap({ duration($0, "\(path).expires_in", range: 60...(30 * 86_400)) }) else {
                if members["expires_in"] == nil { check(false, "\(path).expires_in", "is required") }
                return nil
            }
            return OfferStep(kind: kind, value: amount, currency: currency, expiresIn: expires)
        }

        private mutating func split(_ value: JSONValue, _ path: String, depth: Int) -> [SplitVariant]? {
            guard case .array(let items) = value, (2...10).contains(items.count) else {
                check(false, path, "must be a list of 2 to 10 variants")
                return nil
            }
            var variants: [SplitVariant] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path)[\(index)]"
                guard case .object(let members, _) = item else {
                    check(false, itemPath, "must be an object with weight and steps")
                    continue
                }
                for key in members.keys where !["weight", "steps"].contains(key) { check(false, "\(itemPath).\(key)", "is not a member of a variant") }
                guard case .integer(let weight)? = members["weight"], (1...10_000).contains(weight) else {
                    check(false, "\(itemPath).weight", "must be a whole number from 1 to 10000")
                    continue
                }
                variants.append(SplitVariant(weight: Int(weight), steps: steps(members["steps"] ?? .array([]), "\(itemPath).steps", depth: depth + 1)))
            }
            return variants.count == items.count ? variants : nil
        }

        private mutating func task(_ value: JSONValue, _ path: String) -> String? {
            guard case .object(let members, _) = value, case .string(let text)? = members["text"] else {
                check(false, "\(path).text", "is required")
                return nil
            }
            for key in members.keys where key != "text" { check(false, "\(path).\(key)", "is not a member of task") }
            var validator = Validator()
            validator.text(text, "\(path).text", max: 500)
            errors += validator.errors
            return validator.errors.isEmpty ? text : nil
        }

        private mutating func duration(_ value: JSONValue, _ path: String, range: ClosedRange<Int64>) -> Int64? {
            guard case .string(let text) = value, let seconds = FlowDefinition.seconds(text), range.contains(seconds) else {
                check(false, path, "must be a duration such as 90s, 15m, 2h or 7d, from \(range.lowerBound)s to \(range.upperBound / 86_400)d")
                return nil
            }
            return seconds
        }
    }

    /// Seconds in a duration written `90s`, `15m`, `2h`, `7d` or `2w`.
    public static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, text.count >= 2, text.count <= 12 else { return nil }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(digits) else { return nil }
        let scale: Int64? = switch unit {
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86_400
        case "w": 604_800
        default: nil
        }
        guard let scale, count <= Int64.max / scale / 1000 else { return nil }
        return count * scale
    }
}

/// What starts a run (API.md, Automation, Triggers).
public enum FlowTrigger: Sendable, Equatable {
    /// A cart with lines untouched `after` seconds: online, when its shopper is not live on the site;
    /// at a till (`pos`), a sale parked there and not finished.
    case cartAbandoned(after: Int64, channel: Cart.Channel)
    /// As ``cartAbandoned(after:channel:)`` online, once the cart names who it is for (an email or a customer) and
    /// has reached a checkout step.
    case checkoutAbandoned(after: Int64)
    case cartExpired
    case orderPlaced
    case orderDelivered
    case customerCreated
    /// The weekly replenishment run made the customer a proposal.
    case replenishmentDue
    /// A SKU on the customer's wishlist came back in stock.
    case backInStock

    public var type: String {
        switch self {
        case .cartAbandoned: "cart.abandoned"
        case .checkoutAbandoned: "checkout.abandoned"
        case .cartExpired: "cart.expired"
        case .orderPlaced: "order.placed"
        case .orderDelivered: "order.delivered"
        case .customerCreated: "customer.created"
        case .replenishmentDue: "replenishment.due"
        case .backInStock: "back_in_stock"
        }
    }

    /// How long an abandonment trigger waits for the cart to stay untouched.
    public var idleSeconds: Int64? {
        switch self {
        case .cartAbandoned(let after, _), .checkoutAbandoned(let after): after
        default: nil
        }
    }
}

/// What ends a run before its last step.
public enum FlowExit: String, Sendable, CaseIterable, Codable {
    /// The shopper placed an order (as a customer, or from the run's cart): the default.
    case orderPlaced = "order.placed"
    /// The shopper came back and is live on the site.
    case shopperLive = "shopper.live"
    /// The run's cart has no lines any more.
    case cartEmptied = "cart.emptied"
}

/// One step of a flow.
public indirect enum FlowStep: Sendable, Equatable {
    case wait(seconds: Int64)
    case send(SendStep)
    case offer(OfferStep)
    case branch(condition: FlowCondition, then: [FlowStep], otherwise: [FlowStep])
    case split([SplitVariant])
    case task(text: String)

    /// The step lists inside a branch step, in branch order.
    var branches: [[FlowStep]]? {
        switch self {
        case .branch(_, let then, let otherwise): [then, otherwise]
        case .split(let variants): variants.map(\.steps)
        default: nil
        }
    }

    /// The step's kind as written (`wait`, `send`…).
    public var kind: String {
        switch self {
        case .wait: "wait"
        case .send: "send"
        case .offer: "offer"
        case .branch: "if"
        case .split: "split"
        case .task: "task"
        }
    }
}

/// What an `if` step asks: whether the run's customer is in a segment, how the run's last message
/// was taken, or where the run's proposal stands (the follow-ups of a replenishment reminder).
public enum FlowCondition: Sendable, Equatable {
    case segment(SegmentFilter)
    case message(Engagement)
    case proposal(ProposalStatus)

    /// How the run's last message was taken.
    public enum Engagement: String, Sendable, Equatable {
        case notOpened = "not_opened"
        case openedNotClicked = "opened_not_clicked"
        case clicked
    }
}

/// A message to send, on the first channel of `channels` that can take it.
public struct SendStep: Sendable, Equatable {
    /// The channel, then its fallbacks in order.
    public var channels: [MessageChannel]
    public var template: String
    /// Sent without marketing consent, caps or quiet hours (an order's news in a flow).
    public var transactional: Bool
    /// How long a capped or quiet channel may hold the message before the next channel is tried
    /// instead; the last channel waits as long as it must.
    public var window: Int64
    /// How long a channel has to deliver before the next is tried.
    public var timeout: Int64

    /// Long enough to wait out quiet hours, shorter than an SMS or push cap.
    public static let defaultWindow: Int64 = 12 * 3600
    public static let defaultTimeout: Int64 = 3600
}

/// A single-use code to make for the run's customer or cart.
public struct OfferStep: Sendable, Equatable {
    public var kind: Discount.Kind
    /// Percent, minor units of the shop's currency, or 0 for free shipping.
    public var value: Int64
    public var currency: Currency?
    public var expiresIn: Int64
}

/// One arm of an A/B split.
public struct SplitVariant: Sendable, Equatable {
    public var weight: Int
    public var steps: [FlowStep]
}
