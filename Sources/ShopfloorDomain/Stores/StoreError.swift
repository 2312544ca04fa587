/// What a store reports that is not a domain outcome of its own: a stored row that cannot be read as the
/// value it holds, or a write refused by one of the store's uniqueness rules.
public enum StoreError: Error, Equatable {
    /// A row of `table` with key `key` has `column` missing or not of its type: the store was changed
    /// outside the server, or a migration is missing. Never answered with a default.
    case badRow(table: String, key: String, column: String)
    /// A write would have made a second row where `constraint` (as `table.column`) allows one.
    case duplicate(constraint: String)

    /// Whether this is a ``duplicate(constraint:)``, whichever the constraint.
    public var isDuplicate: Bool {
        if case .duplicate = self { true } else { false }
    }
}
