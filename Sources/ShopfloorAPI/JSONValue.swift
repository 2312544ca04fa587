/// A parsed JSON document, as ``JSONParser`` builds it. Objects keep their members' order.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue], order: [String])
}
