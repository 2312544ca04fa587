/// Something for staff to do (API.md, Automation, Tasks): made by a flow's `task` step (and later by a
/// confirmed replenishment or a SKU running short), listed on topic `tasks` for admins and tills.
public struct StaffTask: Sendable, Equatable {
    public var id: TaskID
    public var text: String
    public var status: TaskStatus
    public var customerID: CustomerID?
    public var orderID: OrderID?
    public var flowID: FlowID?
    public var runID: RunID?
    public var createdAt: String
    public var doneAt: String?
    /// The key that marked it done.
    public var doneBy: String?

    public init(id: TaskID, text: String, status: TaskStatus, customerID: CustomerID?, orderID: OrderID?, flowID: FlowID?, runID: RunID?,
                createdAt: String, doneAt: String?, doneBy: String?) {
        self.id = id
        self.text = text
        self.status = status
        self.customerID = customerID
        self.orderID = orderID
        self.flowID = flowID
        self.runID = runID
        self.createdAt = createdAt
        self.doneAt = doneAt
        self.doneBy = doneBy
    }
}

public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case open, done
}
