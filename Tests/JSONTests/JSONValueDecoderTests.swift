@testable import ShopfloorJSON
import Testing

struct JSONValueDecoderTests {
    @Test func snakeCaseKeysNameCamelCasePropertiesWithID() {
        let names = ["customer_id", "id", "line_id", "payment_id", "expires_at", "sku", "unitPrice", "gift_wrap_note_id"].map(JSONCoding.camelCase)
        #expect(names == ["customerID", "id", "lineID", "paymentID", "expiresAt", "sku", "unitPrice", "giftWrapNoteID"])
    }

    @Test func decodesNestedMembersArraysAndOptionalsAsFoundationDoes() throws {
        let json = """
            {"id": "ord_1", "customer_id": "cus_1", "payment_id": null, "expires_at": "2026-12-01T21:00:00Z",
             "status": "paid", "tags": ["gift", "rush"],
             "lines": [{"line_id": "l1", "quantity": 2, "unit_price": {"amount": 1299, "currency": "GBP"}},
                       {"line_id": "l2", "quantity": 1, "unit_price": {"amount": 5, "currency": "EUR"}, "weight": 0.5}]}
            """
        let expected = OrderBody(
            id: "ord_1", customerID: "cus_1", paymentID: nil, expiresAt: "2026-12-01T21:00:00Z", status: .paid, note: nil, tags: ["gift", "rush"],
            lines: [LineBody(lineID: "l1", quantity: 2, unitPrice: PriceBody(amount: 1299, currency: CurrencyCode(code: "GBP")), weight: nil),
                    LineBody(lineID: "l2", quantity: 1, unitPrice: PriceBody(amount: 5, currency: CurrencyCode(code: "EUR")), weight: 0.5)],
            quantities: nil)
        #expect(try decodeBothWays(OrderBody.self, json) == .value(expected))
    }

    @Test func absentAndNullOptionalsAreBothNil() throws {
        let absent = try decodeBothWays(Optionals.self, #"{}"#)
        #expect(absent == .value(Optionals(note: nil, count: nil, line: nil, document: nil)))
        let null = try decodeBothWays(Optionals.self, #"{"note": null, "count": null, "line": null, "document": null}"#)
        #expect(null == .value(Optionals(note: nil, count: nil, line: nil, document: nil)))
    }

    @Test func wholeNumbersInAnyNotationFitIntegerFields() throws {
        let outcome = try decodeBothWays(Numbers.self, #"{"int": 3.0, "int8": -128, "uint64": 1e19, "double": 7, "float": 0.25}"#)
        #expect(outcome == .value(Numbers(int: 3, int8: -128, uint64: 10_000_000_000_000_000_000, double: 7, float: 0.25)))
        #expect(try decodeBothWays(Numbers.self, #"{"int": 1e2, "int8": 0, "uint64": 0, "double": -0.5, "float": 1}"#)
            == .value(Numbers(int: 100, int8: 0, uint64: 0, double: -0.5, float: 1)))
    }

    @Test func dictionaryKeysStayAsSent() throws {
        let outcome = try decodeBothWays(OrderBody.self, orderJSON(["quantities": #"{"gift_wrap": 1, "line_id": 2, "plain": 3}"#]))
        guard case .value(let order) = outcome else { Issue.record("\(outcome)"); return }
        #expect(order.quantities == ["gift_wrap": 1, "line_id": 2, "plain": 3])
        #expect(try decodeBothWays([String: [String: Int]].self, #"{"outer_key": {"inner_key": 1}}"#) == .value(["outer_key": ["inner_key": 1]]))
        #expect(try decodeBothWays([[String: Bool]].self, #"[{"a_b": true}, {}]"#) == .value([["a_b": true], [:]]))
    }

    @Test func jsonValuesComeBackExactlyAsSent() throws {
        let customisation = #"{"engraving_text": "Ada", "guest_list": [{"first_name": "Grace", "seat_id": 4}], "z_last": null, "a_first": 1.5}"#
        let document = try JSONParser.parse(Array(#"{"line_id": "l1", "customisation": \#(customisation), "extras": [{"x_y": 1}, 2]}"#.utf8))
        let sent = try JSONParser.parse(Array(customisation.utf8))
        let line = try JSONCoding.decode(CustomisedLine.self, from: document)
        #expect(line == CustomisedLine(lineID: "l1", customisation: sent, extras: [try JSONParser.parse(Array(#"{"x_y": 1}"#.utf8)), .integer(2)]))
        #expect(try JSONCoding.encode(line.customisation) == Array(#"{"engraving_text":"Ada","guest_list":[{"first_name":"Grace","seat_id":4}],"z_last":null,"a_first":1.5}"#.utf8))
        #expect(try JSONCoding.decode(JSONValue.self, from: document) == document)
        #expect(try JSONCoding.decode([String: JSONValue].self, from: document)["customisation"] == sent)
    }

    @Test func keyedContainersSeeSwiftNames() throws {
        let outcome = try decodeBothWays(KeyListing.self, #"{"line_id": 1, "plain": 2, "customer_id": 3}"#)
        #expect(outcome == .value(KeyListing(keys: ["customerID", "lineID", "plain"], hasLineID: true, hasSnakeLineID: false)))
        // Two keys that name one property: the first one sent wins, in both.
        #expect(try decodeBothWays(LineBody.Reference.self, #"{"line_id": "first", "lineID": "second"}"#) == .value(LineBody.Reference(lineID: "first")))
    }

    @Test func unkeyedContainersReadEveryKindOfItem() throws {
        let outcome = try decodeBothWays(Mixed.self, #"[2, null, [true, 1.5], {"line_id": "l1"}, "end"]"#)
        #expect(outcome == .value(Mixed(count: 5, first: 2, flag: true, weight: 1.5, lineID: "l1", indexBeforeTail: 4, tail: "end")))
    }

    @Test func superDecodersReadTheMemberOrNull() throws {
        #expect(try decodeBothWays(Inherited.self, #"{"super": {"line_id": "l1"}, "own_count": 2}"#) == .value(Inherited(lineID: "l1", ownCount: 2)))
        #expect(try decodeBothWays(Inherited.self, #"{"own_count": 2}"#)
            == .failure(.valueNotFound([String: Any].self, at: ["super"])))
    }

    @Test func errorsHaveFoundationsCaseTypeAndPath() throws {
        let line = #"{"line_id": "l1", "quantity": 2, "unit_price": {"amount": 1, "currency": "GBP"}}"#
        let cases: [(String, ErrorShape)] = [
            (#"{}"#, .keyNotFound("id", at: [])),
            (#"[]"#, .typeMismatch([String: Any].self, at: [])),
            (#"null"#, .valueNotFound([String: Any].self, at: [])),
            (orderJSON(["lines": nil]), .keyNotFound("lines", at: [])),
            (orderJSON(["lines": #"[{"line_id": "l1", "unit_price": {"amount": 1, "currency": "GBP"}}]"#]), .keyNotFound("quantity", at: ["lines", "Index 0"])),
            (orderJSON(["lines": #"[\#(line), {"line_id": "l2", "quantity": 1, "unit_price": {"currency": "GBP"}}]"#]),
             .keyNotFound("amount", at: ["lines", "Index 1", "unitPrice"])),
            (orderJSON(["lines": #"[{"line_id": "l1", "quantity": "2", "unit_price": {"amount": 1, "currency": "GBP"}}]"#]),
             .typeMismatch(Int.self, at: ["lines", "Index 0", "quantity"])),
            (orderJSON(["lines": #"[{"line_id": "l1", "quantity": 2, "unit_price": {"amount": 1, "currency": "GBP"}, "weight": "heavy"}]"#]),
             .typeMismatch(Double.self, at: ["lines", "Index 0", "weight"])),
            (orderJSON(["lines": "{}"]), .typeMismatch([Any].self, at: ["lines"])),
            (orderJSON(["lines": "[[]]"]), .typeMismatch([String: Any].self, at: ["lines", "Index 0"])),
            (orderJSON(["note": "5"]), .typeMismatch(String.self, at: ["note"])),
            (orderJSON(["tags": #"["a", 1]"#]), .typeMismatch(String.self, at: ["tags", "Index 1"])),
            (orderJSON(["quantities": #"{"gift_wrap": "x"}"#]), .typeMismatch(Int.self, at: ["quantities", "gift_wrap"])),
            (orderJSON(["quantities": "[]"]), .typeMismatch([String: Any].self, at: ["quantities"])),
            (orderJSON(["customer_id": "null"]), .valueNotFound(String.self, at: ["customerID"])),
            (orderJSON(["lines": "null"]), .valueNotFound([Any].self, at: ["lines"])),
            (orderJSON(["lines": "[null]"]), .valueNotFound([String: Any].self, at: ["lines", "Index 0"])),
            (orderJSON(["lines": "[\(line)]", "quantities": #"{"a": null}"#]), .valueNotFound(Int.self, at: ["quantities", "a"])),
            (orderJSON(["tags": "[null]"]), .valueNotFound(String.self, at: ["tags", "Index 0"])),
            (orderJSON(["status": #""lost""#]), .dataCorrupted("Cannot initialize Status from invalid String value lost", at: ["status"])),
            (orderJSON(["status": "1"]), .typeMismatch(String.self, at: ["status"])),
            (orderJSON(["lines": #"[{"line_id": "l1", "quantity": 2, "unit_price": {"amount": 1, "currency": "gbp"}}]"#]),
             .dataCorrupted("'gbp' is not an upper-case currency code", at: ["lines", "Index 0", "unitPrice", "currency"])),
        ]
        for (json, expected) in cases {
            #expect(try decodeBothWays(OrderBody.self, json) == .failure(expected), "\(json)")
        }
        // `null` for a Bool is a mismatch, not a missing value, in Foundation too.
        #expect(try decodeBothWays(Flag.self, #"{"on": null}"#) == .failure(.typeMismatch(Bool.self, at: ["on"])))
        #expect(try decodeBothWays(Flag.self, #"{"on": 1}"#) == .failure(.typeMismatch(Bool.self, at: ["on"])))
        #expect(try decodeBothWays(Mixed.self, #"[1]"#) == .failure(.valueNotFound(Never.self, at: ["Index 1"])))
    }

    /// Foundation reports a number that fits no field without a path (the API finds the field in the
    /// document); this decoder does too, and names the number.
    @Test func numbersThatDoNotFitTheirFieldAreDataErrorsWithoutAPath() throws {
        let cases = [
            #"{"int": 3.5, "int8": 0, "uint64": 0, "double": 0, "float": 0}"#,
            #"{"int": 1e30, "int8": 0, "uint64": 0, "double": 0, "float": 0}"#,
            #"{"int": 9223372036854775808, "int8": 0, "uint64": 0, "double": 0, "float": 0}"#,
            #"{"int": 0, "int8": 128, "uint64": 0, "double": 0, "float": 0}"#,
            #"{"int": 0, "int8": 0, "uint64": -1, "double": 0, "float": 0}"#,
            #"{"int": 0, "int8": 0, "uint64": 0, "double": 0, "float": 1e300}"#,
            #"{"int": 0, "int8": 0, "uint64": 0, "double": 0, "float": 1e-50}"#,
        ]
        for json in cases {
            #expect(try decodeBothWays(Numbers.self, json) == .failure(.dataCorrupted("", at: [])), "\(json)")
        }
        let document = try JSONParser.parse(Array(#"{"int": 0, "int8": 300, "uint64": 0, "double": 0, "float": 0}"#.utf8))
        let error = #expect(throws: DecodingError.self) { try JSONCoding.decode(Numbers.self, from: document) }
        guard case .dataCorrupted(let context)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(context.debugDescription == "Number 300 is not representable in Swift.")
    }
}

// MARK: - Both ways

/// What the API reads of a `DecodingError` (`Problem.init(_: DecodingError)`): its case, the key or
/// type it names and the coding path, with `dataCorrupted`'s text where it has a path. Without one, it
/// is a number that fits no field, which Foundation calls "not valid JSON" and this decoder names.
private struct ErrorShape: Equatable, CustomStringConvertible {
    var kind: String
    var subject: String
    var path: [String]

    static func keyNotFound(_ key: String, at path: [String]) -> ErrorShape { ErrorShape(kind: "keyNotFound", subject: key, path: path) }
    static func typeMismatch(_ type: Any.Type, at path: [String]) -> ErrorShape { ErrorShape(kind: "typeMismatch", subject: "\(type)", path: path) }
    static func valueNotFound(_ type: Any.Type, at path: [String]) -> ErrorShape { ErrorShape(kind: "valueNotFound", subject: "\(type)", path: path) }
    static func dataCorrupted(_ detail: String, at path: [String]) -> ErrorShape { ErrorShape(kind: "dataCorrupted", subject: detail, path: path) }

    init(kind: String, subject: String, path: [String]) {
        self.kind = kind
        self.subject = subject
        self.path = path
    }

    init(_ error: any Error) {
        let steps = { (context: DecodingError.Context) in context.codingPath.map(\.stringValue) }
        switch error {
        case DecodingError.keyNotFound(let key, let context): self = .keyNotFound(key.stringValue, at: steps(context))
        case DecodingError.typeMismatch(let type, let context): self = .typeMismatch(type, at: steps(context))
        case DecodingError.valueNotFound(let type, let context): self = .valueNotFound(type, at: steps(context))
        case DecodingError.dataCorrupted(let context):
            self = .dataCorrupted(context.codingPath.isEmpty ? "" : context.debugDescription, at: steps(context))
        default: self = ErrorShape(kind: "\(type(of: error))", subject: "\(error)", path: [])
        }
    }

    var description: String { "\(kind)(\(subject)) at \(path)" }
}

private enum Outcome<T: Equatable>: Equatable {
    case value(T)
    case failure(ErrorShape)

    init(_ decode: () throws -> T) {
        do { self = .value(try decode()) } catch { self = .failure(ErrorShape(error)) }
    }
}

/// Decodes `json` from its parsed document and, through Foundation, from its bytes; expects the same
/// outcome (equal values, or errors of one shape) and returns it.
private func decodeBothWays<T: Decodable & Equatable>(_ type: T.Type, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Outcome<T> {
    let bytes = Array(json.utf8)
    let document = try JSONParser.parse(bytes)
    let direct = Outcome { try JSONCoding.decode(type, from: document) }
    let foundation = Outcome { try JSONCoding.decode(type, from: bytes) }
    #expect(direct == foundation, "\(json)", sourceLocation: sourceLocation)
    return direct
}

/// A valid ``OrderBody`` document with `changes` made: each member replaced or added, or left out if `nil`.
private func orderJSON(_ changes: KeyValuePairs<String, String?>) -> String {
    var members: [(key: String, value: String?)] = [
        ("id", #""o""#), ("customer_id", #""c""#), ("expires_at", #""e""#), ("status", #""open""#), ("tags", "[]"), ("lines", "[]"),
    ]
    for (key, value) in changes {
        if let index = members.firstIndex(where: { $0.key == key }) { members[index].value = value } else { members.append((key, value)) }
    }
    return "{" + members.compactMap { member in member.value.map { "\"\(member.key)\": \($0)" } }.joined(separator: ", ") + "}"
}

// MARK: - Bodies

private struct OrderBody: Decodable, Equatable {
    enum Status: String, Decodable { case open, paid }

    var id: String
    var customerID: String
    var paymentID: String?
    var expiresAt: String
    var status: Status
    var note: String?
    var tags: [String]
    var lines: [LineBody]
    var quantities: [String: Int]?
}

private struct LineBody: Decodable, Equatable {
    struct Reference: Decodable, Equatable { var lineID: String }

    var lineID: String
    var quantity: Int
    var unitPrice: PriceBody
    var weight: Double?
}

private struct PriceBody: Decodable, Equatable {
    var amount: Int64
    var currency: CurrencyCode
}

/// A value that refuses some strings itself, with `dataCorruptedError(in:)`, as `Currency` does.
private struct CurrencyCode: Decodable, Equatable {
    var code: String

    init(code: String) { self.code = code }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        code = try container.decode(String.self)
        guard code == code.uppercased() else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(code)' is not an upper-case currency code")
        }
    }
}

private struct Optionals: Decodable, Equatable {
    var note: String?
    var count: Int?
    var line: LineBody.Reference?
    var document: JSONValue?
}

private struct Numbers: Decodable, Equatable {
    var int: Int
    var int8: Int8
    var uint64: UInt64
    var double: Double
    var float: Float
}

private struct Flag: Decodable, Equatable {
    var on: Bool
}

private struct CustomisedLine: Decodable, Equatable {
    var lineID: String
    var customisation: JSONValue
    var extras: [JSONValue]
}

/// The names a keyed container offers, sorted (Foundation's come in no particular order).
private struct KeyListing: Decodable, Equatable {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var keys: [String]
    var hasLineID: Bool
    var hasSnakeLineID: Bool

    init(keys: [String], hasLineID: Bool, hasSnakeLineID: Bool) {
        self.keys = keys
        self.hasLineID = hasLineID
        self.hasSnakeLineID = hasSnakeLineID
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        keys = container.allKeys.map(\.stringValue).sorted()
        hasLineID = container.contains(AnyKey(stringValue: "lineID"))
        hasSnakeLineID = container.contains(AnyKey(stringValue: "line_id"))
    }
}

/// Reads `[Int, null, [Bool, Double], {"line_id"}, String]` through each unkeyed-container call.
private struct Mixed: Decodable, Equatable {
    enum Keys: String, CodingKey { case lineID }

    var count: Int?
    var first: Int
    var flag: Bool
    var weight: Double
    var lineID: String
    var indexBeforeTail: Int
    var tail: String

    init(count: Int?, first: Int, flag: Bool, weight: Double, lineID: String, indexBeforeTail: Int, tail: String) {
        (self.count, self.first, self.flag, self.weight) = (count, first, flag, weight)
        (self.lineID, self.indexBeforeTail, self.tail) = (lineID, indexBeforeTail, tail)
    }

    init(from decoder: any Decoder) throws {
        var items = try decoder.unkeyedContainer()
        count = items.count
        first = try items.decode(Int.self)
        guard try items.decodeNil() else { throw DecodingError.dataCorruptedError(in: items, debugDescription: "expected null") }
        var pair = try items.nestedUnkeyedContainer()
        flag = try pair.decode(Bool.self)
        weight = try pair.decode(Double.self)
        guard pair.isAtEnd else { throw DecodingError.dataCorruptedError(in: pair, debugDescription: "expected the end") }
        lineID = try items.nestedContainer(keyedBy: Keys.self).decode(String.self, forKey: .lineID)
        indexBeforeTail = items.currentIndex
        guard try !items.decodeNil() else { throw DecodingError.dataCorruptedError(in: items, debugDescription: "expected a string") }
        tail = try items.decode(String.self)
        guard items.isAtEnd else { throw DecodingError.dataCorruptedError(in: items, debugDescription: "expected the end") }
    }
}

/// Reads its parent's members through `superDecoder()` (the `super` member) and its own through
/// `superDecoder(forKey:)`.
private struct Inherited: Decodable, Equatable {
    enum Keys: String, CodingKey { case ownCount }

    var lineID: String
    var ownCount: Int

    init(lineID: String, ownCount: Int) {
        self.lineID = lineID
        self.ownCount = ownCount
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        lineID = try LineBody.Reference(from: container.superDecoder()).lineID
        ownCount = try Int(from: container.superDecoder(forKey: .ownCount))
    }
}
