import Testing
@testable import ShopfloorTransport

/// An invalid input and the index of the byte at which it stops being UTF-8.
private struct InvalidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var firstBadIndex: Int
    var testDescription: String { name }
}

private let invalidCases: [InvalidCase] = [
    InvalidCase(name: "overlong NUL C0 80", bytes: [0xC0, 0x80], firstBadIndex: 0),
    InvalidCase(name: "overlong C1 BF", bytes: [0xC1, 0xBF], firstBadIndex: 0),
    InvalidCase(name: "overlong 3-byte E0 80 80", bytes: [0xE0, 0x80, 0x80], firstBadIndex: 1),
    InvalidCase(name: "overlong 3-byte E0 9F BF", bytes: [0xE0, 0x9F, 0xBF], firstBadIndex: 1),
    InvalidCase(name: "overlong 4-byte F0 80 80 80", bytes: [0xF0, 0x80, 0x80, 0x80], firstBadIndex: 1),
    InvalidCase(name: "overlong 4-byte F0 8F BF BF", bytes: [0xF0, 0x8F, 0xBF, 0xBF], firstBadIndex: 1),
    InvalidCase(name: "surrogate ED A0 80", bytes: [0xED, 0xA0, 0x80], firstBadIndex: 1),
    InvalidCase(name: "surrogate ED BF BF", bytes: [0xED, 0xBF, 0xBF], firstBadIndex: 1),
    InvalidCase(name: "above U+10FFFF F4 90 80 80", bytes: [0xF4, 0x90, 0x80, 0x80], firstBadIndex: 1),
    InvalidCase(name: "lead byte F5", bytes: [0xF5, 0x80, 0x80, 0x80], firstBadIndex: 0),
    InvalidCase(name: "lead byte F8", bytes: [0xF8, 0x88, 0x80, 0x80, 0x80], firstBadIndex: 0),
    InvalidCase(name: "byte FE", bytes: [0xFE], firstBadIndex: 0),
    InvalidCase(name: "byte FF", bytes: [0xFF], firstBadIndex: 0),
    InvalidCase(name: "stray continuation 80", bytes: [0x80], firstBadIndex: 0),
    InvalidCase(name: "stray continuation after ASCII", bytes: Array("abc".utf8) + [0xBF, 0x41], firstBadIndex: 3),
    InvalidCase(name: "extra continuation after a 2-byte char", bytes: [0xC3, 0xA9, 0xA9], firstBadIndex: 2),
    InvalidCase(name: "2-byte sequence cut by ASCII", bytes: [0xC3, 0x41], firstBadIndex: 1),
    InvalidCase(name: "3-byte sequence cut by ASCII", bytes: [0xE2, 0x82, 0x41], firstBadIndex: 2),
    InvalidCase(name: "4-byte sequence cut by a new lead", bytes: [0xF0, 0x9F, 0x98, 0xF0, 0x9F, 0x98, 0x80], firstBadIndex: 3),
    InvalidCase(name: "bad byte after valid multi-byte text", bytes: Array("κόσμε €".utf8) + [0xED, 0xA0, 0x80] + Array("tail".utf8),
                firstBadIndex: Array("κόσμε €".utf8).count + 1),
]

/// Valid text whose last character is cut short: every prefix is a valid start.
private let truncatedCases: [[UInt8]] = [
    [0xC3],
    [0xE2, 0x82],
    [0xE2],
    [0xF0, 0x9F, 0x98],
    [0xF0, 0x9F],
    [0xF4, 0x8F, 0xBF],
    Array("ok ".utf8) + [0xED, 0x9F],
]

/// Feeds `bytes` in the given parts and reports the result of the last `consume` and the boundary.
private func validate(_ parts: [[UInt8]]) -> (valid: Bool, atBoundary: Bool) {
    var validator = UTF8Validator()
    for part in parts {
        guard validator.consume(part) else { return (false, validator.isAtBoundary) }
    }
    return (true, validator.isAtBoundary)
}

@Suite struct UTF8ValidatorTests {
    @Test func validMultiByteTextIsAccepted() {
        let text = "plain ASCII, café, Ελληνικά, €100, 日本語, 𝄞 and 😀🛒 (4-byte)"
        let bytes = Array(text.utf8)
        #expect(UTF8Validator.isValid(bytes))
        #expect(validate([bytes]) == (true, true))
        #expect(validate(bytes.map { [$0] }) == (true, true))
        for split in 1..<bytes.count {
            #expect(validate([Array(bytes[..<split]), Array(bytes[split...])]).valid, "split at \(split)")
        }
    }

    @Test func emptyInputIsValid() {
        #expect(UTF8Validator.isValid([UInt8]()))
        #expect(UTF8Validator().isAtBoundary)
    }

    /// The first and last code point of each encoded length, and the neighbours of the surrogate range.
    @Test(arguments: [
        [0x00], [0x7F],
        [0xC2, 0x80], [0xDF, 0xBF],
        [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF],
        [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
    ] as [[UInt8]])
    func boundaryCodePointsAreAccepted(_ bytes: [UInt8]) {
        #expect(UTF8Validator.isValid(bytes))
        #expect(validate(bytes.map { [$0] }) == (true, true))
    }

    @Test(arguments: invalidCases)
    fileprivate func invalidSequenceIsRefused(_ invalid: InvalidCase) {
        #expect(!UTF8Validator.isValid(invalid.bytes))
        #expect(!validate([invalid.bytes]).valid)
    }

    /// RFC 6455 §8.1 lets an endpoint fail as soon as the text cannot be UTF-8: `consume` answers
    /// `false` on the very byte that makes it so, never before and never later.
    @Test(arguments: invalidCases)
    fileprivate func failureComesAtTheFirstInvalidByte(_ invalid: InvalidCase) {
        var validator = UTF8Validator()
        for (index, byte) in invalid.bytes.enumerated() {
            let accepted = validator.consume([byte])
            if index < invalid.firstBadIndex {
                #expect(accepted, "byte \(index) refused, expected \(invalid.firstBadIndex)")
            } else {
                #expect(!accepted, "byte \(index) accepted, expected refusal there")
                break
            }
        }
        // Fed the good prefix whole, then the bad byte alone.
        var split = UTF8Validator()
        let prefixAccepted = split.consume(invalid.bytes[..<invalid.firstBadIndex])
        let badByteAccepted = split.consume([invalid.bytes[invalid.firstBadIndex]])
        #expect(prefixAccepted)
        #expect(!badByteAccepted)
    }

    @Test(arguments: invalidCases)
    fileprivate func anySplitGivesTheSameAnswerAsWhole(_ invalid: InvalidCase) {
        for split in 0...invalid.bytes.count {
            let parts = [Array(invalid.bytes[..<split]), Array(invalid.bytes[split...])]
            #expect(!validate(parts).valid, "split at \(split)")
        }
        #expect(!validate(invalid.bytes.map { [$0] }).valid)
    }

    @Test(arguments: truncatedCases)
    func truncatedSequenceIsNotAtABoundary(_ bytes: [UInt8]) {
        #expect(validate([bytes]) == (true, false))
        #expect(validate(bytes.map { [$0] }) == (true, false))
        #expect(!UTF8Validator.isValid(bytes))
    }

    @Test func truncatedSequenceCompletedLaterIsValid() {
        var validator = UTF8Validator()
        let start = validator.consume([0xF0, 0x9F])
        #expect(start)
        #expect(!validator.isAtBoundary)
        let end = validator.consume([0x98, 0x80])
        #expect(end)
        #expect(validator.isAtBoundary)
        let more = validator.consume(Array(" done".utf8))
        #expect(more)
        #expect(validator.isAtBoundary)
    }

    /// Random byte strings, biased towards UTF-8 lead and continuation bytes, checked against the
    /// standard library's decoder, whole and byte by byte.
    @Test func agreesWithTheStandardLibraryOnRandomInput() {
        var generator = SeededGenerator(seed: 0x0007_F8)
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
                                    0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for round in 0..<4000 {
            let count = Int.random(in: 0...8, using: &generator)
            let bytes = (0..<count).map { _ in
                Bool.random(using: &generator) ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(UTF8Validator.isValid(bytes) == expected, "round \(round): \(bytes.map { String($0, radix: 16) })")
            let byByte = validate(bytes.map { [$0] })
            #expect((byByte.valid && byByte.atBoundary) == expected, "round \(round) byte by byte")
        }
    }
}
