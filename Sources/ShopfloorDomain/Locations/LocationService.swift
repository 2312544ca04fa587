
/// Locations: creation and lookup by id or code.
public struct LocationService: Sendable {
    private let store: any LocationStore
    private let writer: any StoreWriter
    private let events: EventLog
    private let clock: any WallClock

    public init(stores: Stores, events: EventLog, clock: any WallClock = SystemClock()) {
        store = stores.locations
        writer = stores.writer
        self.events = events
        self.clock = clock
    }

    public func create(code: String, name: String, kind: Location.Kind, fulfilsOnline: Bool) async throws -> Location {
        var validator = Validator()
        validator.check(code.utf8.count <= 32 && !code.isEmpty && code.utf8.allSatisfy(\.isCodeCharacter), "code",
                        "must be 1 to 32 lowercase letters, digits, '-' or '_'")
        validator.text(name, "name", max: 200)
        try validator.throwIfAny()
        let location = Location(id: .make(), code: code, name: name, kind: kind, fulfilsOnline: fulfilsOnline, createdAt: clock.timestamp)
        try await writer.write { [store, events] transaction in
            try store.insert(location, in: transaction)
            try events.append(type: "location.created", topic: "locations", data: location, in: transaction)
        }
        return location
    }

    public func all() throws -> [Location] {
        try store.all()
    }

    /// The location with this code, or with this id.
    public func find(_ codeOrID: String) throws -> Location? {
        try store.find(codeOrID)
    }
}
