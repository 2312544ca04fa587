/// Where locations live.
public protocol LocationStore: Sendable {
    /// Inserts `location` in `transaction`; a code already taken throws ``LocationError/duplicateCode(_:)``.
    func insert(_ location: Location, in transaction: any WriteTransaction) throws
    /// Every location, in the order created.
    func all() throws -> [Location]
    /// The location with this code, or with this id.
    func find(_ codeOrID: String) throws -> Location?
    /// The same, as `transaction` sees it.
    func find(_ codeOrID: String, in transaction: any WriteTransaction) throws -> Location?
}
