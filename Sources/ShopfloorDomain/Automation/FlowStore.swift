public import ShopfloorJSON

/// Flows with their versions, their runs, per-step counters, and how far the event log has been read
/// for triggers and exits.
public protocol FlowStore: Sendable {
    func insert(_ flow: Flow, in transaction: any WriteTransaction) throws
    /// Stores name, status and version; a new version's definition is added with ``insertVersion(_:of:document:at:in:)``.
    func update(_ flow: Flow, in transaction: any WriteTransaction) throws
    func insertVersion(_ version: Int, of flow: FlowID, document: JSONValue, at: String, in transaction: any WriteTransaction) throws
    func flow(_ id: FlowID) throws -> (flow: Flow, position: Int64)?
    /// Flows whose position is below `before`, newest first.
    func flows(before: Int64, limit: Int) throws -> [(position: Int64, flow: Flow)]
    /// Every active flow.
    func activeFlows() throws -> [Flow]
    /// The definition a run's version was written as.
    func document(of flow: FlowID, version: Int) throws -> JSONValue?

    /// Adds the run unless the flow already has one for its entry key; `false` then.
    func insert(_ run: FlowRun, in transaction: any WriteTransaction) throws -> Bool
    func update(_ run: FlowRun, awaiting message: MessageID?, in transaction: any WriteTransaction) throws
    func run(_ id: RunID, in transaction: any WriteTransaction) throws -> FlowRun?
    func run(_ id: RunID) throws -> FlowRun?
    /// Active runs for the customer or the cart.
    func activeRuns(customer: CustomerID?, cart: CartID?, in transaction: any WriteTransaction) throws -> [FlowRun]
    /// Whether any run is active.
    func hasActiveRuns() throws -> Bool
    /// A flow's runs, newest first, optionally of one status.
    func runs(of flow: FlowID, status: RunStatus?, before: Int64, limit: Int) throws -> [(position: Int64, run: FlowRun)]
    /// Whether an order other than `excluding` was placed by the customer or from the cart after `since`
    /// (stamps are to the second: one placed in the second the run began is taken to have started it).
    func ordered(customer: CustomerID?, cart: CartID?, since: String, excluding: OrderID?, in transaction: any WriteTransaction) throws -> Bool

    /// Adds `amount` to a step's counter (`entered`, `sent`…).
    func count(_ counter: String, flow: FlowID, step: String, amount: Int64, in transaction: any WriteTransaction) throws
    /// Every counter of a flow, by step then counter.
    func counters(of flow: FlowID) throws -> [String: [String: Int64]]

    /// How many of the shipped flows were made, in their order (``ShippedFlows/all``).
    func shippedInstalled(in transaction: any WriteTransaction) throws -> Int
    func setShippedInstalled(_ count: Int, in transaction: any WriteTransaction) throws

    /// The last event seq read for triggers and exits (0 before the first pass).
    func markedSeq() throws -> Int64
    func setMarkedSeq(_ seq: Int64, in transaction: any WriteTransaction) throws
}

/// Staff tasks.
public protocol TaskStore: Sendable {
    func insert(_ task: StaffTask, in transaction: any WriteTransaction) throws
    func update(_ task: StaffTask, in transaction: any WriteTransaction) throws
    func task(_ id: TaskID, in transaction: any WriteTransaction) throws -> StaffTask?
    /// Tasks whose position is below `before`, newest first, optionally of one status.
    func tasks(status: TaskStatus?, before: Int64, limit: Int) throws -> [(position: Int64, task: StaffTask)]
}
