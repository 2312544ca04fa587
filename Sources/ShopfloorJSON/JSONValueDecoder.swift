extension JSONCoding {
    /// Decodes `type` from a parsed document, so a body read by ``JSONParser`` is not parsed again.
    ///
    /// Reads what `decode(_:from:)` reads from the same bytes and fails the same way, with one
    /// difference: a ``JSONValue`` member comes back exactly as sent (keys verbatim, in order), where
    /// `JSONDecoder` would have converted its keys.
    public static func decode<T: Decodable>(_ type: T.Type, from document: JSONValue) throws -> T {
        try JSONValueDecoder(document, parentPath: []).decode(type)
    }
}

/// A `Decoder` over a parsed ``JSONValue``, that reads as Foundation's `JSONDecoder` does with
/// ``JSONCoding``'s conventions.
///
/// Member keys are matched by their ``JSONCoding/camelCase(_:)`` names. Two kinds of value keep their
/// keys as sent: a ``JSONValue`` (a customisation must round-trip exactly) and a `[String: T]`, whose
/// keys are data rather than property names (`JSONDecoder` exempts it from key conversion too).
///
/// Every `DecodingError` has the case, type and coding path `JSONDecoder` gives, since `Problem` turns
/// them into the field paths clients see. That includes a number that does not fit its field (`3.5` or
/// `1e30` for an `Int`, `300` for a `UInt8`): `JSONDecoder` reports it as `dataCorrupted` with an empty
/// path, and the API finds the field in the document for that case.
struct JSONValueDecoder: Decoder, SingleValueDecodingContainer {
    fileprivate let value: JSONValue
    /// The path to the container that holds `value`; with `key`, the path to `value`. Joined only when
    /// asked for (an error, a nested container): most values never need it.
    private let parentPath: [any CodingKey]
    private let key: (any CodingKey)?

    fileprivate init(_ value: JSONValue, parentPath: [any CodingKey], key: (any CodingKey)? = nil) {
        self.value = value
        self.parentPath = parentPath
        self.key = key
    }

    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch value {
        case .object(let members, let order):
            return KeyedDecodingContainer(KeyedContainer<Key>(members: members, order: order, codingPath: codingPath))
        case .null:
            throw DecodingError.valueNotFound([String: Any].self, DecodingError.Context(
                codingPath: codingPath, debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        default:
            throw mismatch([String: Any].self)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let items):
            return UnkeyedContainer(items: items, codingPath: codingPath)
        case .null:
            throw DecodingError.valueNotFound([Any].self, DecodingError.Context(
                codingPath: codingPath, debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        default:
            throw mismatch([Any].self)
        }
    }

    func singleValueContainer() -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        // `null` is a mismatch here, not a missing value: `JSONDecoder` makes the same exception for Bool.
        guard case .bool(let flag) = value else { throw mismatch(type) }
        return flag
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let string) = value else { throw unexpected(type) }
        return string
    }

    func decode(_ type: Double.Type) throws -> Double { try floatingPoint() }
    func decode(_ type: Float.Type) throws -> Float { try floatingPoint() }
    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // By exact type first: the two kinds kept verbatim, and the leaves that arrays and generic
        // members reach through here, which would otherwise box this decoder to call `init(from:)`.
        // Each bit cast follows a check that `T` is that very type.
        if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
        if T.self == String.self { return unsafeBitCast(try decode(String.self), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try decode(Int.self), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try decode(Int64.self), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try decode(Bool.self), to: T.self) }
        if let dictionary = T.self as? any VerbatimKeyedDictionary.Type { return try dictionary.init(verbatim: self) as! T }
        return try T(from: self)
    }

    /// A whole number that fits `T`: `3.0` and `1e2` are whole, as `JSONDecoder` reads them.
    private func integer<T: FixedWidthInteger>() throws -> T {
        switch value {
        case .integer(let integer):
            guard let number = T(exactly: integer) else { throw notRepresentable(integer) }
            return number
        case .double(let double):
            guard let number = T(exactly: double) else { throw notRepresentable(double) }
            return number
        default:
            throw unexpected(T.self)
        }
    }

    private func floatingPoint<T: BinaryFloatingPoint>() throws -> T {
        switch value {
        case .integer(let integer):
            return T(integer)
        case .double(let double):
            let number = T(double)
            // A `Float` too large becomes infinity and one too small zero: `JSONDecoder` refuses both.
            guard number.isFinite, number != 0 || double == 0 else { throw notRepresentable(double) }
            return number
        default:
            throw unexpected(T.self)
        }
    }

    /// `value` is not a `type`: missing if it is `null`, else of the wrong kind.
    fileprivate func unexpected(_ type: Any.Type) -> DecodingError {
        guard value == .null else { return mismatch(type) }
        return .valueNotFound(type, DecodingError.Context(
            codingPath: codingPath, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
    }

    private func mismatch(_ type: Any.Type) -> DecodingError {
        let found = switch value {
        case .null: "null"
        case .bool: "bool"
        case .integer, .double: "number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
        return .typeMismatch(type, DecodingError.Context(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(found) instead."))
    }

    /// A number that does not fit the type asked for: without a path, as `JSONDecoder` reports it.
    private func notRepresentable(_ number: some Numeric) -> DecodingError {
        .dataCorrupted(DecodingError.Context(codingPath: [], debugDescription: "Number \(number) is not representable in Swift."))
    }
}

/// The members of one object, by the Swift names of their keys.
private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    private let members: [String: JSONValue]
    /// The names in document order, for `allKeys`.
    private let names: [String]
    let codingPath: [any CodingKey]

    /// Converts each key once, here, rather than on every lookup.
    init(members: [String: JSONValue], order: [String], codingPath: [any CodingKey]) {
        self.codingPath = codingPath
        // Most objects have no key to convert: they keep the parsed dictionary itself.
        guard order.contains(where: { $0.utf8.contains(UInt8(ascii: "_")) }) else {
            self.members = members
            names = order
            return
        }
        var converted: [String: JSONValue] = [:]
        converted.reserveCapacity(order.count)
        var names: [String] = []
        names.reserveCapacity(order.count)
        for key in order {
            let name = JSONCoding.camelCase(key)
            // `line_id` and `lineID` both name `lineID`: the first one sent wins, as in `JSONDecoder`.
            guard converted[name] == nil, let value = members[key] else { continue }
            converted[name] = value
            names.append(name)
        }
        self.members = converted
        self.names = names
    }

    var allKeys: [Key] { names.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func decoder(forKey key: Key) throws -> JSONValueDecoder {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(
                codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return JSONValueDecoder(value, parentPath: codingPath, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try decoder(forKey: key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder(forKey: key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder(forKey: key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder(forKey: key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder(forKey: key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder(forKey: key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder(forKey: key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder(forKey: key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder(forKey: key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder(forKey: key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder(forKey: key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder(forKey: key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder(forKey: key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder(forKey: key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder(forKey: key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder(forKey: key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(forKey: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(forKey: key).unkeyedContainer()
    }

    func superDecoder() -> any Decoder { superDecoder(at: PathKey.member("super")) }
    func superDecoder(forKey key: Key) -> any Decoder { superDecoder(at: key) }

    /// A missing member reads as `null`, as in `JSONDecoder`: the type decides whether that is an error.
    private func superDecoder(at key: some CodingKey) -> any Decoder {
        JSONValueDecoder(members[key.stringValue] ?? .null, parentPath: codingPath, key: key)
    }
}

/// The items of one array, read in order.
private struct UnkeyedContainer: UnkeyedDecodingContainer {
    private let items: [JSONValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(items: [JSONValue], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    /// The decoder for the current item; past the end, a missing `type` at the index after the last.
    private func current(_ type: Any.Type) throws -> JSONValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, DecodingError.Context(
                codingPath: codingPath + [PathKey.index(currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        return JSONValueDecoder(items[currentIndex], parentPath: codingPath, key: PathKey.index(currentIndex))
    }

    /// Reads the current item and moves past it only if that succeeded, as the protocol requires.
    private mutating func next<T>(_ type: T.Type, _ read: (JSONValueDecoder) throws -> T) throws -> T {
        let result = try read(current(type))
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard try current(Never.self).decodeNil() else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try $0.decode(type) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type) { try $0.decode(type) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(KeyedDecodingContainer<NestedKey>.self) { try $0.container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next((any UnkeyedDecodingContainer).self) { try $0.unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next((any Decoder).self) { $0 }
    }
}

/// A coding path step that is not a property name: a dictionary key as sent, `super`, or an array
/// index, which `JSONDecoder` spells `Index 2` and whose `intValue` `Problem` reads.
private enum PathKey: CodingKey {
    case member(String)
    case index(Int)

    init(stringValue: String) { self = .member(stringValue) }
    init(intValue: Int) { self = .index(intValue) }

    var stringValue: String {
        switch self {
        case .member(let key): key
        case .index(let index): "Index \(index)"
        }
    }

    var intValue: Int? {
        guard case .index(let index) = self else { return nil }
        return index
    }
}

/// A `[String: T]`, whose keys are data (a guest's name, a SKU), not property names: read with its
/// keys as sent.
private protocol VerbatimKeyedDictionary {
    init(verbatim decoder: JSONValueDecoder) throws
}

extension Dictionary: VerbatimKeyedDictionary where Key == String, Value: Decodable {
    fileprivate init(verbatim decoder: JSONValueDecoder) throws {
        guard case .object(let members, let order) = decoder.value else { throw decoder.unexpected([String: Any].self) }
        self.init(minimumCapacity: order.count)
        let path = decoder.codingPath
        for key in order {
            guard let member = members[key] else { continue }
            self[key] = try JSONValueDecoder(member, parentPath: path, key: PathKey.member(key)).decode(Value.self)
        }
    }
}
