import Testing
@testable import ShopfloorTransport

private func encoded(_ text: String) -> String {
    String(decoding: SMTPDataEncoder.encode(Array(text.utf8)), as: UTF8.self)
}

@Suite struct SMTPDataEncoderTests {
    @Test func lineStartingWithADotGetsASecondOne() {
        #expect(encoded("Subject: x\r\n\r\n.hidden\r\n..two\r\nnot.first\r\n") == "Subject: x\r\n\r\n..hidden\r\n...two\r\nnot.first\r\n.\r\n")
    }

    @Test func lineOfOnlyADotCannotEndTheMessageEarly() {
        #expect(encoded("a\r\n.\r\nQUIT\r\n") == "a\r\n..\r\nQUIT\r\n.\r\n")
    }

    @Test func messageStartingWithADotIsStuffed() {
        #expect(encoded(".x") == "..x\r\n.\r\n")
    }

    @Test func bareLineFeedsAndCarriageReturnsBecomeCRLF() {
        #expect(encoded("a\nb\rc\r\n\n.d") == "a\r\nb\r\nc\r\n\r\n..d\r\n.\r\n")
    }

    @Test func emptyMessageIsOnlyTheTerminator() {
        #expect(encoded("") == ".\r\n")
    }
}
