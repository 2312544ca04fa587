import Foundation
@testable import ShopfloorJSON
import Testing

private func parse(_ text: String, limits: JSONParser.Limits = JSONParser.Limits()) throws(JSONParser.Failure) -> JSONValue {
    try JSONParser.parse(Array(text.utf8), limits: limits)
}

/// The failure `bytes` are refused with, or `nil` if they parse.
private func failure(_ bytes: [UInt8], limits: JSONParser.Limits = JSONParser.Limits()) -> JSONParser.Failure? {
    do {
        _ = try JSONParser.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

private func failure(_ text: String, limits: JSONParser.Limits = JSONParser.Limits()) -> JSONParser.Failure? {
    failure(Array(text.utf8), limits: limits)
}

/// `"` + bytes + `"`: a string literal holding raw bytes.
private func quoted(_ bytes: [UInt8]) -> [UInt8] {
    [0x22] + bytes + [0x22]
}

private func object(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
    .object(Dictionary(uniqueKeysWithValues: members.map { ($0.key, $0.value) }), order: members.map(\.key))
}

/// SplitMix64: a small, fixed, seedable generator, so a fuzz failure reproduces exactly.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A document that uses every kind of value, escapes and multi-byte UTF-8: the seed for mutations.
private let richDocument = Array(#"""
    {"id":"prod_1","title":"Blue \"Mug\" \u00e9\uD83D\uDE00 é 𝄞","n":[0,-1,12.5,-3e-2,1E+10,9223372036854775807],
     "ok":true,"no":false,"none":null,"nested":{"a":[[],{}],"b":{"c":[1,{"d":"\n\t\/"}]}},"empty":""}
    """#.utf8)

@Suite struct JSONParserTests {
    // MARK: Valid documents

    @Test func buildsObjectsInMemberOrder() throws {
        let value = try parse(#"{"z":1,"a":[true,false,null],"m":"x","e":{}}"#)
        #expect(value == object([
            "z": .integer(1), "a": .array([.bool(true), .bool(false), .null]), "m": .string("x"), "e": .object([:], order: []),
        ]))
        guard case .object(_, let order) = value else { Issue.record("not an object"); return }
        #expect(order == ["z", "a", "m", "e"])
    }

    @Test(arguments: [
        ("0", JSONValue.integer(0)),
        ("-0", .integer(0)),
        ("42", .integer(42)),
        ("-17", .integer(-17)),
        ("9223372036854775807", .integer(Int64.max)),
        ("-9223372036854775808", .integer(Int64.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ("1.5", .double(1.5)),
        ("-0.25", .double(-0.25)),
        ("1e3", .double(1000)),
        ("1E+3", .double(1000)),
        ("-12.5e-1", .double(-1.25)),
        ("0.0", .double(0)),
        ("1e-400", .double(0)),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("null", .null),
        (#""""#, .string("")),
        ("[]", .array([])),
        ("{}", .object([:], order: [])),
        (" \t\r\n[ 1 ,\t2 ]\r\n ", .array([.integer(1), .integer(2)])),
        ("[{}, [[]], \"x\"]", .array([.object([:], order: []), .array([.array([])]), .string("x")])),
    ])
    func parsesScalarsAndContainers(_ text: String, _ expected: JSONValue) throws {
        #expect(try parse(text) == expected)
    }

    @Test(arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        (#""\u0041\u00e9\u00E9""#, "Aéé"),
        (#""\u0000""#, "\u{0}"),
        (#""\u20AC""#, "€"),
        (#""\uD83D\uDE00""#, "😀"),
        (#""\uDBFF\uDFFF""#, "\u{10FFFF}"),
        ("\"é€😀𝄞\"", "é€😀𝄞"),
        ("\"\u{7F}\"", "\u{7F}"),
        ("\"\u{10FFFF}\u{E000}\u{FFFD}\"", "\u{10FFFF}\u{E000}\u{FFFD}"),
    ])
    func decodesEscapesAndUTF8(_ text: String, _ expected: String) throws {
        #expect(try parse(text) == .string(expected))
    }

    @Test func parsesTheRichDocument() throws {
        guard case .object(let members, let order) = try JSONParser.parse(richDocument) else {
            Issue.record("not an object")
            return
        }
        #expect(order == ["id", "title", "n", "ok", "no", "none", "nested", "empty"])
        #expect(members["title"] == .string("Blue \"Mug\" é😀 é 𝄞"))
        #expect(members["n"] == .array([.integer(0), .integer(-1), .double(12.5), .double(-0.03), .double(1e10), .integer(Int64.max)]))
        #expect(members["none"] == .null)
        #expect(members["nested"] == object([
            "a": .array([.array([]), .object([:], order: [])]),
            "b": object(["c": .array([.integer(1), object(["d": .string("\n\t/")])])]),
        ]))
    }

    @Test func agreesWithFoundationOnTheRichDocument() throws {
        #expect(try JSONSerialization.jsonObject(with: Data(richDocument)) is [String: Any])
    }

    // MARK: Refusals

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, 7),
        (#"{"a":1,"b":{"a":1,"a":2}}"#, 18),
        (#"{"a":1,"\u0061":2}"#, 7),
        (#"{"":1,"":2}"#, 6),
    ])
    func refusesDuplicateKeys(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .duplicateKey, offset: offset))
    }

    @Test func sameKeyInSiblingObjectsIsNoDuplicate() throws {
        #expect(try parse(#"[{"a":1},{"a":2}]"#) == .array([object(["a": .integer(1)]), object(["a": .integer(2)])]))
    }

    /// Swift compares strings by canonical equivalence, so `é` precomposed and decomposed are one key:
    /// refused, rather than one silently overwriting the other.
    @Test func canonicallyEquivalentKeysAreDuplicates() {
        #expect(failure("{\"\u{E9}\":1,\"e\u{301}\":2}")?.reason == .duplicateKey)
    }

    @Test(arguments: [
        ([0xC0, 0xAF], "overlong 2-byte /"),
        ([0xC1, 0xBF], "overlong 2-byte"),
        ([0xE0, 0x80, 0xAF], "overlong 3-byte /"),
        ([0xE0, 0x9F, 0xBF], "overlong 3-byte"),
        ([0xF0, 0x80, 0x80, 0xAF], "overlong 4-byte /"),
        ([0xF0, 0x8F, 0xBF, 0xBF], "overlong 4-byte"),
        ([0xED, 0xA0, 0x80], "surrogate U+D800"),
        ([0xED, 0xBF, 0xBF], "surrogate U+DFFF"),
        ([0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80], "CESU-8 pair"),
        ([0xF4, 0x90, 0x80, 0x80], "above U+10FFFF"),
        ([0xF5, 0x80, 0x80, 0x80], "lead F5"),
        ([0xF8, 0x88, 0x80, 0x80, 0x80], "5-byte form"),
        ([0xFF], "0xFF"),
        ([0xFE], "0xFE"),
        ([0x80], "lone continuation"),
        ([0xBF], "lone continuation BF"),
        ([0xC3], "truncated 2-byte"),
        ([0xE2, 0x82], "truncated 3-byte"),
        ([0xF0, 0x9F, 0x98], "truncated 4-byte"),
        ([0xC3, 0x41], "2-byte with ASCII continuation"),
        ([0xE2, 0x41, 0xAC], "3-byte with bad second byte"),
        ([0xE2, 0x82, 0x41], "3-byte with bad third byte"),
        ([0xF0, 0x9F, 0x98, 0x41], "4-byte with bad fourth byte"),
    ] as [([UInt8], String)])
    func refusesInvalidUTF8InStrings(_ sequence: [UInt8], _ name: String) {
        #expect(failure(quoted(sequence)) == JSONParser.Failure(reason: .invalidUTF8, offset: 1), "\(name)")
        #expect(failure(quoted(Array("ok ".utf8) + sequence + Array(" ok".utf8))) == JSONParser.Failure(reason: .invalidUTF8, offset: 4), "\(name)")
        #expect(failure(Array(#"{""#.utf8) + sequence + Array(#"":1}"#.utf8))?.reason == .invalidUTF8, "\(name) in a key")
    }

    @Test func refusesASequenceCutOffByTheEndOfInput() {
        #expect(failure([0x22, 0xC3]) == JSONParser.Failure(reason: .invalidUTF8, offset: 1))
        #expect(failure([0x22, 0xF0, 0x9F, 0x98]) == JSONParser.Failure(reason: .invalidUTF8, offset: 1))
    }

    @Test func refusesNonASCIIOutsideStrings() {
        #expect(failure([0xFF]) == JSONParser.Failure(reason: .unexpectedCharacter, offset: 0))
        #expect(failure([0xEF, 0xBB, 0xBF, 0x7B, 0x7D]) == JSONParser.Failure(reason: .unexpectedCharacter, offset: 0))
        #expect(failure(Array("[1,\u{A0}2]".utf8)) == JSONParser.Failure(reason: .unexpectedCharacter, offset: 3))
    }

    @Test(arguments: [
        (#""\uD800""#, 7),
        (#""\uDBFF""#, 7),
        (#""\uDC00""#, 7),
        (#""\uDFFF""#, 7),
        (#""\uD800x""#, 7),
        (#""\uD800\n""#, 7),
        (#""\uD800\u0041""#, 13),
        (#""\uD800\uD800""#, 13),
        (#""\uDE00\uD83D""#, 7),
        (#""a\uD83D""#, 8),
    ])
    func refusesLoneSurrogateEscapes(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .invalidEscape, offset: offset))
    }

    @Test(arguments: [#""\x""#, #""\a""#, #""\U0041""#, #""\u12G4""#, #""\u-123""#, #""\'""#, "\"\\\u{E9}\""])
    func refusesInvalidEscapes(_ text: String) {
        #expect(failure(text)?.reason == .invalidEscape)
    }

    @Test(arguments: [
        ("01", 1), ("00", 1), ("-01", 2), ("[007]", 2), (#"{"a":012}"#, 6), ("-00.5", 2),
    ])
    func refusesLeadingZeros(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .invalidNumber, offset: offset))
    }

    @Test(arguments: ["-", "-a", "1.", "1.e5", "1e", "1e+", "1E-", "-.5", "[1.]", "-Infinity"])
    func refusesMalformedNumbers(_ text: String) {
        #expect(failure(text)?.reason == .invalidNumber)
    }

    @Test(arguments: [".5", "+1", "NaN", "Infinity", "0x10h"])
    func refusesNonJSONNumberForms(_ text: String) {
        let reason = failure(text)?.reason
        #expect(reason == .unexpectedCharacter || reason == .trailingData, "\(String(describing: reason))")
    }

    @Test(arguments: [("1e400", 0), ("-1e400", 0), ("[1E309]", 1), ("1.7976931348623159e308", 0), ("123456789e999999999999", 0)])
    func refusesHugeNumbers(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .numberOutOfRange, offset: offset))
    }

    @Test(arguments: [
        (String(repeating: "9", count: 65), 0), ("[" + String(repeating: "1", count: 70) + "]", 1),
        ("0." + String(repeating: "0", count: 63) + "1", 0),
    ])
    func refusesOverlongNumbers(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .numberTooLong, offset: offset))
    }

    @Test func acceptsTheLargestNumbersWithinBounds() throws {
        #expect(try parse(String(repeating: "9", count: 64)) == .double(1e64))
        #expect(try parse("1.7976931348623157e308") == .double(.greatestFiniteMagnitude))
    }

    @Test(arguments: [
        ("[1,]", 3), ("[1,2,]", 5), (#"{"a":1,}"#, 7), ("[,]", 1), ("{,}", 1), ("[1,,2]", 3), (#"{"a":1,,"b":2}"#, 7), ("[ 1 , ]", 6),
    ])
    func refusesTrailingAndEmptyCommas(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .unexpectedCharacter, offset: offset))
    }

    @Test(arguments: [
        ("{} x", 3), ("1 2", 2), ("[]]", 2), (#""a""b""#, 3), ("{}{}", 2), ("null,", 4), ("true false", 5), ("0 ", -1),
    ])
    func refusesDataAfterTheValue(_ text: String, _ offset: Int) {
        if offset < 0 {
            #expect(failure(text) == nil, "trailing whitespace is allowed")
        } else {
            #expect(failure(text) == JSONParser.Failure(reason: .trailingData, offset: offset))
        }
    }

    @Test func refusesANULAfterTheValue() {
        #expect(failure([0x7B, 0x7D, 0x00]) == JSONParser.Failure(reason: .trailingData, offset: 2))
    }

    @Test(arguments: Array(0x00..<0x20))
    func refusesRawControlCharactersInStrings(_ byte: Int) {
        #expect(failure(quoted([0x61, UInt8(byte), 0x62])) == JSONParser.Failure(reason: .unexpectedCharacter, offset: 2))
    }

    @Test(arguments: [
        ("", 0), ("   ", 3), ("[", 1), ("{", 1), (#"{"a""#, 4), (#"{"a":"#, 5), (#"{"a":1"#, 6), ("[1", 2), ("[1,", 3),
        (#""abc"#, 4), ("tru", 0), ("nul", 0), (#""\"#, 2), (#""\u00"#, 3),
    ])
    func refusesTruncatedDocuments(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .unexpectedEnd, offset: offset))
    }

    @Test(arguments: [
        ("trux", 0), ("nulL", 0), ("True", 0), ("{a:1}", 1), ("{'a':1}", 1), ("[1 2]", 3), (#"{"a" 1}"#, 5), (#"{"a":}"#, 5), ("}", 0), ("]", 0),
        (#"{"a":1 "b":2}"#, 7), ("[1}", 2), (#"{"a":1]"#, 6), ("/* c */ 1", 0), ("'a'", 0),
    ])
    func refusesUnexpectedCharacters(_ text: String, _ offset: Int) {
        #expect(failure(text) == JSONParser.Failure(reason: .unexpectedCharacter, offset: offset))
    }

    @Test func nestingIsBoundedAtTheDepthLimit() throws {
        let limit = JSONParser.Limits().maxDepth
        #expect(limit == 32)
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(failure(deepest) == nil)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(failure(tooDeep) == JSONParser.Failure(reason: .tooDeep, offset: limit))
        let objects = String(repeating: #"{"a":"#, count: limit + 1) + "1" + String(repeating: "}", count: limit + 1)
        #expect(failure(objects) == JSONParser.Failure(reason: .tooDeep, offset: limit * 5))
        let mixed = String(repeating: #"[{"a":"#, count: 17) + "1" + String(repeating: "}]", count: 17)
        #expect(failure(mixed)?.reason == .tooDeep)
        // Far past the limit costs no stack: refused at the same place.
        #expect(failure(String(repeating: "[", count: 100_000)) == JSONParser.Failure(reason: .tooDeep, offset: limit))
    }

    @Test func depthLimitIsConfigurable() {
        var limits = JSONParser.Limits()
        limits.maxDepth = 2
        #expect(failure("[[1]]", limits: limits) == nil)
        #expect(failure("[[[1]]]", limits: limits) == JSONParser.Failure(reason: .tooDeep, offset: 2))
        #expect(failure("1", limits: limits) == nil)
    }

    @Test func stringLengthIsBounded() {
        var limits = JSONParser.Limits()
        limits.maxStringBytes = 8
        #expect(failure(#""12345678""#, limits: limits) == nil)
        #expect(failure(#""123456789""#, limits: limits)?.reason == .stringTooLong)
        #expect(failure(#"{"123456789":1}"#, limits: limits)?.reason == .stringTooLong)
        #expect(failure(#""\u00e9\u00e9\u00e9\u00e9""#, limits: limits) == nil)
        #expect(failure(#""\u00e9\u00e9\u00e9\u00e9\u00e9""#, limits: limits)?.reason == .stringTooLong)
    }

    @Test func memberCountIsBounded() {
        var limits = JSONParser.Limits()
        limits.maxMembers = 3
        #expect(failure("[1,2,3]", limits: limits) == nil)
        #expect(failure("[1,2,3,4]", limits: limits) == JSONParser.Failure(reason: .tooManyMembers, offset: 7))
        #expect(failure(#"{"a":[1,2]}"#, limits: limits) == nil)
        #expect(failure(#"{"a":[1,2],"b":3}"#, limits: limits)?.reason == .tooManyMembers)
        #expect(failure("[[],[],[],[]]", limits: limits)?.reason == .tooManyMembers)
    }

    @Test func failureDescribesReasonAndOffset() {
        #expect(JSONParser.Failure(reason: .duplicateKey, offset: 7).description == "duplicate object key at byte 7")
        #expect(failure("[1,]")?.description == "unexpected character at byte 3")
    }

    @Test func everyStrictPrefixOfADocumentIsRefused() {
        for end in 0..<richDocument.count {
            let prefix = Array(richDocument[..<end])
            guard let failure = failure(prefix) else {
                Issue.record("prefix of \(end) bytes parsed")
                continue
            }
            #expect(failure.offset <= end)
            #expect([.unexpectedEnd, .invalidUTF8, .invalidEscape, .invalidNumber].contains(failure.reason), "prefix of \(end) bytes: \(failure)")
        }
    }

    // MARK: Fuzz

    /// 2,000 random byte strings, drawn mostly from JSON's own characters so some get deep into the
    /// grammar: each parses or throws a ``JSONParser/Failure`` with an offset inside the input.
    @Test func randomBytesNeverCrash() {
        var generator = SeededGenerator(state: 0x5EED_0001)
        let alphabet = Array(#"{}[]:,"\ -+.0123456789eEtrufalsn/bu"#.utf8) + [0x09, 0x0A, 0x0D, 0x00, 0x7F, 0x80, 0xC3, 0xA9, 0xED, 0xF0, 0xFF]
        var outcomes = (parsed: 0, refused: 0)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...48, using: &generator)
            let bytes = (0..<length).map { _ in
                Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            check(bytes, &outcomes)
        }
        #expect(outcomes.parsed + outcomes.refused == 2000)
        #expect(outcomes.refused > 0)
    }

    /// 2,000 random mutations of a valid document (bytes flipped, inserted, deleted, duplicated,
    /// swapped, cut): each parses or throws a ``JSONParser/Failure``; what parses, Foundation parses too.
    @Test func mutatedDocumentsNeverCrash() {
        var generator = SeededGenerator(state: 0x5EED_0002)
        let interesting: [UInt8] = Array(#"{}[]:,"\0123456789-+.eE tfn"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        var outcomes = (parsed: 0, refused: 0)
        for _ in 0..<2000 {
            var bytes = richDocument
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<max(1, bytes.count), using: &generator)
                let byte = Bool.random(using: &generator) ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
                guard !bytes.isEmpty else {
                    bytes.append(byte)
                    continue
                }
                switch Int.random(in: 0..<7, using: &generator) {
                case 0: bytes[index] = byte
                case 1: bytes.insert(byte, at: index)
                case 2: bytes.remove(at: index)
                case 3:
                    let end = min(bytes.count, index + Int.random(in: 1...16, using: &generator))
                    bytes.insert(contentsOf: bytes[index..<end], at: end)
                case 4: bytes.swapAt(index, Int.random(in: 0..<bytes.count, using: &generator))
                case 5: bytes.removeSubrange(index...)
                default: bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &generator)
                }
            }
            check(bytes, &outcomes)
        }
        #expect(outcomes.parsed + outcomes.refused == 2000)
        #expect(outcomes.parsed > 0 && outcomes.refused > 0, "\(outcomes)")
    }

    /// Parses `bytes` once: a refusal must point inside the input; an acceptance must be valid JSON to
    /// Foundation as well, since our parser is the stricter one.
    private func check(_ bytes: [UInt8], _ outcomes: inout (parsed: Int, refused: Int)) {
        do {
            _ = try JSONParser.parse(bytes)
            outcomes.parsed += 1
            let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            #expect(foundation != nil, "accepted, but Foundation refuses: \(bytes)")
        } catch {
            outcomes.refused += 1
            #expect((0...bytes.count).contains(error.offset), "\(error) for \(bytes.count) bytes: \(bytes)")
        }
    }
}
