/// A JSON document kept as it was sent, such as a cart line's free `customisation` (an engraving, a
/// guest list). Objects keep their members' order and their keys verbatim.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue], order: [String])
}

extension JSONValue: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(members, order: members.keys.sorted())
        } else if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self)) }
            self = .array(items)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                self = .null
            } else if let flag = try? single.decode(Bool.self) {
                self = .bool(flag)
            } else if let integer = try? single.decode(Int64.self) {
                self = .integer(integer)
            } else if let double = try? single.decode(Double.self) {
                self = .double(double)
            } else {
                self = .string(try single.decode(String.self))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .null: try single.encodeNil()
        case .bool(let flag): try single.encode(flag)
        case .integer(let integer): try single.encode(integer)
        case .double(let double): try single.encode(double)
        case .string(let string): try single.encode(string)
        case .array(let items): try single.encode(items)
        case .object(let members, let order):
            var object = encoder.container(keyedBy: Key.self)
            for key in order { try object.encode(members[key], forKey: Key(stringValue: key)) }
        }
    }

    /// The encoded size, to bound what clients may store.
    public var encodedCount: Int { (try? JSONCoding.encode(self).count) ?? Int.max }
}
