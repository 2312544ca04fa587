import Testing
@testable import ShopfloorTransport

@Suite struct SMTPExtensionsTests {
    @Test func keywordsAreReadWithoutRegardToCase() {
        let reply = SMTPReply(code: 250, lines: [
            "mail.example Hello client", "pipelining", "SIZE 35882577", "8BITMIME", "SMTPUTF8", "STARTTLS",
            "AUTH plain LOGIN CRAM-MD5", "ENHANCEDSTATUSCODES",
        ])
        let extensions = SMTPExtensions(ehloReply: reply)
        #expect(extensions.pipelining && extensions.eightBitMIME && extensions.smtpUTF8 && extensions.startTLS)
        #expect(extensions.sizeLimit == 35_882_577)
        #expect(extensions.authMechanisms == ["PLAIN", "LOGIN", "CRAM-MD5"])
    }

    @Test func firstLineIsTheGreetingNotAKeyword() {
        let extensions = SMTPExtensions(ehloReply: SMTPReply(code: 250, lines: ["STARTTLS"]))
        #expect(extensions == SMTPExtensions())
    }

    @Test func sizeWithoutALimitIsNoLimit() {
        #expect(SMTPExtensions(ehloReply: SMTPReply(code: 250, lines: ["host", "SIZE"])).sizeLimit == nil)
        #expect(SMTPExtensions(ehloReply: SMTPReply(code: 250, lines: ["host", "SIZE 0"])).sizeLimit == nil)
    }

    @Test func draftAuthFormIsUnderstood() {
        let extensions = SMTPExtensions(ehloReply: SMTPReply(code: 250, lines: ["host", "AUTH=LOGIN PLAIN"]))
        #expect(extensions.authMechanisms == ["LOGIN", "PLAIN"])
    }
}
