import ShopfloorDomain
import ShopfloorJSON

/// JSON columns read with the strict parser straight into values, for rows read many at a time (a
/// page of customers): the general decoder's cost per row adds up there.
enum StoredJSON {
    /// A JSON array of strings.
    static func strings(_ row: StoredRow, _ column: String) throws(StoreError) -> [String] {
        guard case .array(let items) = try document(row, column) else { throw StoreError.badRow(table: row.table, key: row.key, column: column) }
        return try items.map { item throws(StoreError) -> String in
            guard case .string(let text) = item else { throw StoreError.badRow(table: row.table, key: row.key, column: column) }
            return text
        }
    }

    /// A JSON array of addresses, as ``Address`` encodes them.
    static func addresses(_ row: StoredRow, _ column: String) throws(StoreError) -> [Address] {
        guard case .array(let items) = try document(row, column) else { throw StoreError.badRow(table: row.table, key: row.key, column: column) }
        return try items.map { item throws(StoreError) -> Address in
            guard case .object(let members, _) = item else { throw StoreError.badRow(table: row.table, key: row.key, column: column) }
            func text(_ name: String) -> String? { if case .string(let value)? = members[name] { value } else { nil } }
            guard let name = text("name"), let line1 = text("line1"), let city = text("city"), let postalCode = text("postal_code"),
                  let country = text("country") else { throw StoreError.badRow(table: row.table, key: row.key, column: column) }
            return Address(name: name, line1: line1, line2: text("line2"), city: city, region: text("region"), postalCode: postalCode,
                           country: country, phone: text("phone"))
        }
    }

    private static func document(_ row: StoredRow, _ column: String) throws(StoreError) -> JSONValue {
        do {
            return try JSONParser.parse(Array(try row.text(column).utf8))
        } catch {
            throw StoreError.badRow(table: row.table, key: row.key, column: column)
        }
    }
}
