/// One entry of a flow (API.md, Automation): who it is for, which version it follows, where it stands,
/// and what it has done. Stored after every step, with its next timer in the same transaction, so a
/// restart resumes it where it was and a step's effects (a message queued, a code issued) happen once.
public struct FlowRun: Sendable, Equatable {
    public var id: RunID
    public var flowID: FlowID
    public var version: Int
    /// What the run was entered for (`cart:…`, `order:…`, `customer:…`): a flow enters once per key.
    public var entryKey: String
    public var status: RunStatus
    public var customerID: CustomerID?
    public var cartID: CartID?
    public var orderID: OrderID?
    public var state: RunState
    /// When the run next wakes (its timer), if it waits.
    public var nextAt: String?
    public var exitReason: String?
    public var enteredAt: String
    public var updatedAt: String

    public init(id: RunID, flowID: FlowID, version: Int, entryKey: String, status: RunStatus, customerID: CustomerID?, cartID: CartID?,
                orderID: OrderID?, state: RunState, nextAt: String?, exitReason: String?, enteredAt: String, updatedAt: String) {
        self.id = id
        self.flowID = flowID
        self.version = version
        self.entryKey = entryKey
        self.status = status
        self.customerID = customerID
        self.cartID = cartID
        self.orderID = orderID
        self.state = state
        self.nextAt = nextAt
        self.exitReason = exitReason
        self.enteredAt = enteredAt
        self.updatedAt = updatedAt
    }
}

public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case active, completed, exited
}

/// Where a run stands inside its flow, stored as JSON with the run.
public struct RunState: Codable, Sendable, Equatable {
    /// The step the run is at (``FlowDefinition/step(at:)``); `nil` once past the last.
    public var position: [Int]?
    /// A `wait` step's end, in milliseconds since 1970, once the run reached it.
    public var resumeAt: Int64?
    /// Which of a `send` step's channels is being tried.
    public var channel = 0
    /// The message a `send` step waits to hear delivered.
    public var message: String?
    /// The last message the run queued, which `{"if":{"message":…}}` asks about.
    public var lastMessage: String?
    /// When that message counts as undelivered, in milliseconds since 1970.
    public var deadline: Int64?
    /// The code an `offer` step made, for the messages after it.
    public var offer: IssuedOffer?
    /// The replenishment proposal the run is about (`replenishment.due`).
    public var proposal: String?
    /// The product back in stock the run is about (`back_in_stock`).
    public var product: RunProduct?
    /// The event seq the run began at: only later events end it.
    public var since: Int64?
    /// What the run did, oldest first (the last ``RunState/logLimit`` entries).
    public var log: [RunLogEntry] = []

    public static let logLimit = 50

    public init(position: [Int]?) {
        self.position = position
    }

    mutating func record(_ at: String, step: [Int]?, _ what: String, _ detail: String? = nil) {
        log.append(RunLogEntry(at: at, step: step.map(FlowDefinition.name(of:)), what: what, detail: detail))
        if log.count > Self.logLimit { log.removeFirst(log.count - Self.logLimit) }
    }
}

/// What a `back_in_stock` run's messages show of the SKU that came back.
public struct RunProduct: Codable, Sendable, Equatable {
    public var id: String
    public var sku: String
    public var title: String
}

/// A code made by an `offer` step.
public struct IssuedOffer: Codable, Sendable, Equatable {
    public var code: String
    /// What it gives, in words (`10 % off`).
    public var text: String
    public var expiresAt: String
}

/// One thing a run did: entered a step, sent on a channel or passed it over (and why), waited, exited.
public struct RunLogEntry: Codable, Sendable, Equatable {
    public var at: String
    public var step: String?
    public var what: String
    public var detail: String?
}
