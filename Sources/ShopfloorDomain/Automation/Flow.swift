public import ShopfloorJSON

/// An automation (API.md, Automation): what starts a run, the steps a run goes through, and what ends
/// one early. The definition is versioned: editing the trigger, steps or exits makes a new version,
/// and a run stays on the version it entered with.
public struct Flow: Sendable, Equatable {
    public var id: FlowID
    public var name: String
    public var status: FlowStatus
    /// The version new runs enter; earlier ones are kept while runs may be on them.
    public var version: Int
    /// The last event seq before the flow was last made active: only later events enter it.
    public var activeSince: Int64
    /// The definition as the shop wrote it (`trigger`, `steps`, `exit_on`), kept verbatim; parsed
    /// into a ``FlowDefinition`` once per version.
    public var document: JSONValue
    public var createdAt: String
    public var updatedAt: String

    public init(id: FlowID, name: String, status: FlowStatus, version: Int, activeSince: Int64, document: JSONValue, createdAt: String,
                updatedAt: String) {
        self.activeSince = activeSince
        self.id = id
        self.name = name
        self.status = status
        self.version = version
        self.document = document
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Whether a flow takes new entries: `active` does, a `draft` does not (its running entries carry on).
public enum FlowStatus: String, Sendable, Codable, CaseIterable {
    case active, draft
}

public struct FlowID: EntityID {
    public static let prefix = "flw"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct RunID: EntityID {
    public static let prefix = "run"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

public struct TaskID: EntityID {
    public static let prefix = "tsk"
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}
