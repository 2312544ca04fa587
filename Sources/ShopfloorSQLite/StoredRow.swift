import ShopfloorDomain
import ShopfloorJSON
import ShopfloorStorage

/// A row read by column name that refuses to guess: a column missing or of another type is a
/// ``StoreError/badRow(table:key:column:)`` naming the table, the row's key and the column, never a
/// default that would pass a damaged row off as data.
struct StoredRow {
    let values: SQLiteConnection.Row
    let table: String
    let key: String

    /// `keyColumn` names the row in errors (its text or integer value).
    init(_ values: SQLiteConnection.Row, table: String, keyColumn: String) {
        self.values = values
        self.table = table
        switch values[keyColumn] {
        case .text(let text)?: key = text
        case .integer(let number)?: key = String(number)
        default: key = "?"
        }
    }

    private func bad(_ column: String) -> StoreError { .badRow(table: table, key: key, column: column) }

    func text(_ column: String) throws(StoreError) -> String {
        guard case .text(let value)? = values[column] else { throw bad(column) }
        return value
    }

    func optionalText(_ column: String) throws(StoreError) -> String? {
        switch values[column] {
        case .text(let value)?: value
        case .null?: nil
        default: throw bad(column)
        }
    }

    func int(_ column: String) throws(StoreError) -> Int {
        guard case .integer(let value)? = values[column] else { throw bad(column) }
        return Int(value)
    }

    func int64(_ column: String) throws(StoreError) -> Int64 {
        guard case .integer(let value)? = values[column] else { throw bad(column) }
        return value
    }

    func optionalInt(_ column: String) throws(StoreError) -> Int? {
        switch values[column] {
        case .integer(let value)?: Int(value)
        case .null?: nil
        default: throw bad(column)
        }
    }

    /// A 0/1 flag.
    func bool(_ column: String) throws(StoreError) -> Bool {
        guard case .integer(let value)? = values[column], value == 0 || value == 1 else { throw bad(column) }
        return value == 1
    }

    func blob(_ column: String) throws(StoreError) -> [UInt8] {
        guard case .blob(let value)? = values[column] else { throw bad(column) }
        return value
    }

    /// A value of a string enumeration.
    func value<T: RawRepresentable<String>>(_ column: String, as type: T.Type) throws(StoreError) -> T {
        guard let value = T(rawValue: try text(column)) else { throw bad(column) }
        return value
    }

    func id<T: EntityID>(_ column: String, as type: T.Type) throws(StoreError) -> T {
        T(rawValue: try text(column))
    }
}

extension SQLiteError {
    /// A UNIQUE or PRIMARY KEY constraint failed.
    var isUniqueViolation: Bool { code == 2067 || code == 1555 }
}

extension SQLiteValue {
    /// Text, or NULL for `nil`.
    static func optional(_ text: String?) -> SQLiteValue {
        text.map { .text($0) } ?? .null
    }
}

extension StoredRow {
    /// An ISO 4217 code the server knows.
    func currency(_ column: String) throws(StoreError) -> Currency {
        guard let currency = Currency(try text(column)) else { throw StoreError.badRow(table: table, key: key, column: column) }
        return currency
    }

    /// A JSON document stored as text.
    func json<T: Decodable>(_ column: String, as type: T.Type) throws(StoreError) -> T {
        do {
            return try JSONCoding.decode(T.self, from: Array(try text(column).utf8))
        } catch {
            throw StoreError.badRow(table: table, key: key, column: column)
        }
    }
}

extension StoredRow {
    /// A JSON document stored as text, or NULL.
    func optionalJSON<T: Decodable>(_ column: String, as type: T.Type) throws(StoreError) -> T? {
        guard try optionalText(column) != nil else { return nil }
        return try json(column, as: T.self)
    }

    /// A JSON array of strings stored as text (tags, images), read by the in-house parser: a page of
    /// products reads three such columns a product, and `JSONDecoder` was a tenth of a cold page.
    func strings(_ column: String) throws(StoreError) -> [String] {
        guard let strings = Self.strings(from: try text(column)) else { throw bad(column) }
        return strings
    }

    /// A JSON object of strings stored as text (a variant's attributes), as ``strings(_:)`` reads.
    func stringMap(_ column: String) throws(StoreError) -> [String: String] {
        guard let map = Self.stringMap(from: try text(column)) else { throw bad(column) }
        return map
    }

    /// `text` as a JSON array of strings, or `nil` when it is not one.
    static func strings(from text: String) -> [String]? {
        guard case .array(let items)? = try? JSONParser.parse(Array(text.utf8)) else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard case .string(let string) = item else { return nil }
            strings.append(string)
        }
        return strings
    }

    /// `text` as a JSON object of strings, or `nil` when it is not one.
    static func stringMap(from text: String) -> [String: String]? {
        guard case .object(let members, _)? = try? JSONParser.parse(Array(text.utf8)) else { return nil }
        var map: [String: String] = [:]
        map.reserveCapacity(members.count)
        for (key, value) in members {
            guard case .string(let string) = value else { return nil }
            map[key] = string
        }
        return map
    }

    /// Free JSON stored as text (a line's customisation), or NULL.
    func optionalJSONValue(_ column: String) throws(StoreError) -> JSONValue? {
        guard let text = try optionalText(column) else { return nil }
        do {
            return try JSONParser.parse(Array(text.utf8))
        } catch {
            throw StoreError.badRow(table: table, key: key, column: column)
        }
    }
}

extension SQLiteValue {
    /// An integer, or NULL for `nil`.
    static func optional(_ number: Int?) -> SQLiteValue {
        number.map { .integer(Int64($0)) } ?? .null
    }

    /// An integer, or NULL for `nil`.
    static func optional(_ number: Int64?) -> SQLiteValue {
        number.map { .integer($0) } ?? .null
    }

    /// `value` encoded as JSON text.
    static func json<T: Encodable>(encoding value: T) throws -> SQLiteValue {
        .text(String(decoding: try JSONCoding.encode(value), as: UTF8.self))
    }

    /// `value` encoded as JSON text, or NULL for `nil`.
    static func optionalJSON<T: Encodable>(encoding value: T?) throws -> SQLiteValue {
        guard let value else { return .null }
        return try json(encoding: value)
    }

    /// Free JSON as text, or NULL for `nil`.
    static func optionalJSON(_ value: JSONValue?) -> SQLiteValue {
        guard let value, let bytes = try? JSONCoding.encode(value) else { return .null }
        return .text(String(decoding: bytes, as: UTF8.self))
    }
}
