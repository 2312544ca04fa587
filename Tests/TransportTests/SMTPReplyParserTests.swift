import Testing
@testable import ShopfloorTransport

/// Feeds `lines` and returns every reply completed, or the error that stopped the parser.
private func parse(_ lines: [String]) -> Result<[SMTPReply], SMTPError> {
    var parser = SMTPReplyParser()
    var replies: [SMTPReply] = []
    for line in lines {
        do {
            if let reply = try parser.parse(line: Array(line.utf8)) { replies.append(reply) }
        } catch {
            return .failure(error)
        }
    }
    return .success(replies)
}

private func isProtocolViolation(_ result: Result<[SMTPReply], SMTPError>) -> Bool {
    if case .failure(.protocolViolation) = result { true } else { false }
}

@Suite struct SMTPReplyParserTests {
    @Test func singleLineReplyHasItsCodeAndText() throws {
        let replies = try parse(["250 2.0.0 Ok: queued as 4F1A"]).get()
        #expect(replies == [SMTPReply(code: 250, lines: ["2.0.0 Ok: queued as 4F1A"])])
        #expect(replies[0].isPositiveCompletion)
    }

    @Test func bareCodeIsAReplyWithEmptyText() throws {
        #expect(try parse(["354"]).get() == [SMTPReply(code: 354, lines: [""])])
    }

    @Test func multiLineReplyEndsAtTheLineWithASpace() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.parse(line: Array("250-sink.test Hello".utf8)) == nil)
        #expect(try parser.parse(line: Array("250-PIPELINING".utf8)) == nil)
        #expect(try parser.parse(line: Array("250-".utf8)) == nil)
        let reply = try parser.parse(line: Array("250 SIZE 1000".utf8))
        #expect(reply == SMTPReply(code: 250, lines: ["sink.test Hello", "PIPELINING", "", "SIZE 1000"]))
        #expect(reply?.text == "sink.test Hello PIPELINING  SIZE 1000")
    }

    @Test func parserStartsAfreshAfterEachReply() throws {
        let replies = try parse(["250 OK", "550-5.1.1 No such", "550 5.1.1 user", "451 4.3.0 later"]).get()
        #expect(replies.map(\.code) == [250, 550, 451])
        #expect(replies[1].lines == ["5.1.1 No such", "5.1.1 user"])
        #expect(replies[1].isPermanentFailure && replies[2].isTransientFailure)
    }

    @Test(arguments: ["", "25", "25 OK", "abc", "250_OK", "250x", "650 no such class", "160 too low", "2x0 OK", "260 second digit"])
    func malformedLineIsAProtocolViolation(_ line: String) {
        #expect(isProtocolViolation(parse([line])))
    }

    @Test func continuationWithAnotherCodeIsAProtocolViolation() {
        #expect(isProtocolViolation(parse(["250-first", "251 second"])))
    }

    @Test func lineOfMaximumLengthIsAcceptedOneMoreIsNot() throws {
        let longest = "250 " + String(repeating: "x", count: SMTPReplyParser.maximumLineLength - 4)
        #expect(try parse([longest]).get().first?.lines.first?.count == SMTPReplyParser.maximumLineLength - 4)
        #expect(isProtocolViolation(parse([longest + "x"])))
    }

    @Test func replyOfTooManyLinesIsAProtocolViolation() throws {
        let continuation = Array(repeating: "250-x", count: SMTPReplyParser.maximumLines - 1)
        #expect(try parse(continuation + ["250 last"]).get().first?.lines.count == SMTPReplyParser.maximumLines)
        #expect(isProtocolViolation(parse(continuation + ["250-one more", "250 last"])))
    }

    @Test func textThatIsNotUTF8IsKeptLossily() throws {
        var parser = SMTPReplyParser()
        let reply = try parser.parse(line: Array("250 caf".utf8) + [0xE9])
        #expect(reply?.code == 250)
        #expect(reply?.text == "caf\u{FFFD}")
    }
}
