/// The decoded `application/x-www-form-urlencoded` query of a request target.
public struct QueryParameters: Sendable {
    private var values: [(String, String)] = []

    public init(_ query: Substring?) {
        guard let query else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].replacing("+", with: " ").removingPercentEncoding
            let value = (parts.count > 1 ? parts[1] : "").replacing("+", with: " ").removingPercentEncoding
            if let name, let value { values.append((name, value)) }
        }
    }

    /// The first value for `name`.
    public subscript(_ name: String) -> String? {
        values.first { $0.0 == name }?.1
    }
}
