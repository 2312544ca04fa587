import Foundation
import Testing
@testable import ShopfloorTransport

/// 2025-07-01 09:05:00 UTC.
private let sampleDate = Date(timeIntervalSince1970: 1_751_360_700)

private func makeMessage(
    from: MailAddress? = nil, to: [MailAddress]? = nil, subject: String = "Your order", text: String = "Thanks.",
    html: String? = nil, messageID: String = "order-42.7f3c@shop.example", headers: [(name: String, value: String)] = []
) throws(MailError) -> MailMessage {
    let sender = if let from { from } else { try MailAddress("orders@shop.example", displayName: "Shop Floor") }
    let recipients = if let to { to } else { [try MailAddress("ada@example.com")] }
    return try MailMessage(
        from: sender, to: recipients,
        subject: subject, text: text, html: html, messageID: messageID, date: sampleDate, headers: headers)
}

private func rendered(_ message: MailMessage) -> String {
    String(decoding: message.rendered(), as: UTF8.self)
}

/// The physical lines of a rendered message, without their CR LF.
private func lines(_ text: String) -> [Substring] {
    text.split(separator: "\r\n", omittingEmptySubsequences: false)
}

@Suite struct MailMessageTests {
    @Test func textOnlyMessageHasItsFieldsAndAQuotedPrintableBody() throws {
        let message = try makeMessage(messageID: "<order-42.7f3c@shop.example>")
        #expect(rendered(message) == """
            Date: Tue, 01 Jul 2025 09:05:00 +0000\r
            From: Shop Floor <orders@shop.example>\r
            To: ada@example.com\r
            Subject: Your order\r
            Message-ID: <order-42.7f3c@shop.example>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Thanks.\r

            """)
        #expect(message.messageID == "order-42.7f3c@shop.example")
    }

    @Test func everyLineEndsInCRLF() throws {
        let text = rendered(try makeMessage(subject: "Grüße\nBcc: x@y", text: "a\nb\rc\r\nd", html: "<p>\n</p>"))
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\n") { #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\r")) }
            if byte == UInt8(ascii: "\r") { #expect(index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n")) }
        }
    }

    @Test(arguments: [
        "Bestellbestätigung für Ihre Bestellung",
        "注文確認",
        String(repeating: "é", count: 300),
        "Ünïcödé " + String(repeating: "🛒", count: 40) + " end",
    ])
    func nonASCIISubjectIsEncodedWordsThatDecodeBack(_ subject: String) throws {
        let text = rendered(try makeMessage(subject: subject))
        let field = try #require(MailDecoding.field("Subject", in: text))
        #expect(field.hasPrefix("=?UTF-8?B?"))
        #expect(MailDecoding.decodeEncodedWords(field) == subject)
        for word in field.split(separator: " ") { #expect(word.count <= 75) }
        for line in lines(text) where line.contains("=?UTF-8?B?") { #expect(line.utf8.count <= 76, "\(line)") }
    }

    @Test func asciiSubjectStaysReadableAndLongOnesFoldAtSpaces() throws {
        let long = (1...40).map { "word\($0)" }.joined(separator: " ")
        let text = rendered(try makeMessage(subject: long))
        #expect(MailDecoding.field("Subject", in: text) == long)
        #expect(text.contains("Subject: word1 word2"))
        for line in lines(text) { #expect(line.utf8.count <= 76) }
    }

    @Test func subjectThatLooksLikeAnEncodedWordIsEncoded() throws {
        let subject = "=?UTF-8?B?SGk=?= literally"
        let field = try #require(MailDecoding.field("Subject", in: rendered(try makeMessage(subject: subject))))
        #expect(field != subject)
        #expect(MailDecoding.decodeEncodedWords(field) == subject)
    }

    @Test(arguments: [
        ("Shop Floor", "Shop Floor <orders@shop.example>"),
        ("Doe, John", "\"Doe, John\" <orders@shop.example>"),
        ("O\"Brien \\ Co.", "\"O\\\"Brien \\\\ Co.\" <orders@shop.example>"),
        (" padded", "\" padded\" <orders@shop.example>"),
    ])
    func asciiDisplayNameIsQuotedOnlyWhenNeeded(_ name: String, _ expected: String) throws {
        let message = try makeMessage(from: MailAddress("orders@shop.example", displayName: name))
        #expect(MailDecoding.field("From", in: rendered(message)) == expected)
    }

    @Test func nonASCIIDisplayNameIsEncoded() throws {
        let message = try makeMessage(to: [MailAddress("zoe@example.com", displayName: "Zoë Ångström"), MailAddress("bo@example.com")])
        let field = try #require(MailDecoding.field("To", in: rendered(message)))
        #expect(field.hasSuffix("<zoe@example.com>, bo@example.com"))
        let name = field.components(separatedBy: " <zoe@")[0]
        #expect(MailDecoding.decodeEncodedWords(name) == "Zoë Ångström")
    }

    @Test(arguments: [
        "Hi\r\nBcc: victim@example.com",
        "Hi\nBcc: victim@example.com",
        "Hi\rBcc: victim@example.com",
        "Hi\r\n\r\nInjected body",
        "Hi\u{0}\u{7F}\u{85}\u{2028}Bcc: victim@example.com",
    ])
    func lineBreaksInSubjectOrDisplayNameNeverStartAField(_ attack: String) throws {
        let message = try makeMessage(
            from: MailAddress("orders@shop.example", displayName: attack), subject: attack)
        let text = rendered(message)
        let split = MailDecoding.split(text)
        #expect(split.fields.map(\.name) == ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"])
        #expect(!lines(text).contains { $0.hasPrefix("Bcc") || $0.hasPrefix("Injected") })
        #expect(MailDecoding.decodeEncodedWords(try #require(MailDecoding.field("Subject", in: text))) == attack)
        let from = try #require(MailDecoding.field("From", in: text))
        #expect(MailDecoding.decodeEncodedWords(from.components(separatedBy: " <orders@")[0]) == attack)
    }

    @Test func extraFieldsWithLineBreaksOrBadNamesAreRefused() {
        #expect(throws: MailError.invalidHeaderValue(name: "List-Unsubscribe")) {
            try makeMessage(headers: [("List-Unsubscribe", "<https://shop.example/u>\r\nBcc: victim@example.com")])
        }
        #expect(throws: MailError.invalidHeaderValue(name: "X-Note")) { try makeMessage(headers: [("X-Note", "a\nb")]) }
        #expect(throws: MailError.invalidHeaderValue(name: "X-Note")) { try makeMessage(headers: [("X-Note", "café")]) }
        #expect(throws: MailError.invalidHeaderName("X-Evil\r\nBcc")) { try makeMessage(headers: [("X-Evil\r\nBcc", "x")]) }
        #expect(throws: MailError.invalidHeaderName("X Evil")) { try makeMessage(headers: [("X Evil", "x")]) }
        #expect(throws: MailError.invalidHeaderName("X-Evil:")) { try makeMessage(headers: [("X-Evil:", "x")]) }
        #expect(throws: MailError.invalidHeaderName("")) { try makeMessage(headers: [("", "x")]) }
        #expect(throws: MailError.reservedHeaderName("bcc")) { try makeMessage(headers: [("bcc", "victim@example.com")]) }
        #expect(throws: MailError.reservedHeaderName("Content-Type")) { try makeMessage(headers: [("Content-Type", "text/html")]) }
    }

    @Test func addressesWithSpecialsAreRefused() {
        for address in [
            "ada@example.com\r\nBcc: x@y.example", "ada@example.com>", "<ada@example.com>", "ada lovelace@example.com",
            "ada@", "@example.com", "ada", "ada..b@example.com", ".ada@example.com", "ada@example..com", "ada@-example.com",
            "\"ada\"@example.com", "ada@[192.0.2.1]", "ada\u{85}@example.com", "ada,bob@example.com",
        ] {
            #expect(throws: MailError.invalidAddress(address)) { try MailAddress(address) }
        }
    }

    @Test func utf8AddressIsAllowedAndKnownToNeedSMTPUTF8() throws {
        let address = try MailAddress("jörg@exämple.de")
        #expect(!address.isASCII)
        #expect(try MailAddress("ada+orders@example.com").isASCII)
    }

    @Test func messageNeedsRecipientsAndAValidID() {
        #expect(throws: MailError.noRecipients) { try makeMessage(to: []) }
        for id in ["no-at-sign", "a@b@c", "<a@b", "a b@c", "a@b\r\nBcc: x@y", "@b", "a@", "a..b@c"] {
            #expect(throws: MailError.invalidMessageID(id)) { try makeMessage(messageID: id) }
        }
    }

    @Test func extraFieldsAppearInOrderAndFoldWhenLong() throws {
        let unsubscribe = "<https://shop.example/unsubscribe?token=abc>, <mailto:unsubscribe@shop.example?subject=unsubscribe-abcdef0123456789>"
        let message = try makeMessage(headers: [
            ("List-Unsubscribe", unsubscribe), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ])
        let text = rendered(message)
        let fields = MailDecoding.split(text).fields
        #expect(fields.map(\.name).suffix(4) == ["List-Unsubscribe", "List-Unsubscribe-Post", "Content-Type", "Content-Transfer-Encoding"])
        #expect(MailDecoding.field("List-Unsubscribe", in: text) == unsubscribe)
        #expect(text.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        for line in lines(text) { #expect(line.utf8.count <= 76) }
    }

    @Test func extraFieldWithAWordTooLongForALineIsRefused() {
        #expect(throws: MailError.headerTooLong(name: "X-Token")) {
            try makeMessage(headers: [("X-Token", String(repeating: "a", count: 990))])
        }
    }

    @Test func quotedPrintableBodyKeepsLinesShortAndDecodesBack() throws {
        let text = String(repeating: "0123456789", count: 200) + "\n"
            + "Grüße, naïve café = 100 % \t \n"
            + String(repeating: "é", count: 500) + "\n"
            + "trailing space \n"
            + String(repeating: "=", count: 80) + "\n"
            + "end"
        let body = MailDecoding.split(rendered(try makeMessage(text: text))).body
        for line in lines(body) {
            #expect(line.utf8.count <= 76, "\(line)")
            #expect(line.utf8.allSatisfy { $0 < 0x80 })
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
        }
        #expect(MailDecoding.decodeQuotedPrintable(body) == text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n")
    }

    @Test func htmlMakesAnAlternativeWithTheTextFirst() throws {
        let message = try makeMessage(text: "Plain thanks.", html: "<p>Thanks – <b>really</b>.</p>")
        let text = rendered(message)
        let split = MailDecoding.split(text)
        let contentType = try #require(MailDecoding.field("Content-Type", in: text))
        #expect(contentType.hasPrefix("multipart/alternative; boundary=\"=_"))
        #expect(MailDecoding.field("Content-Transfer-Encoding", in: text) == nil)
        let boundary = try #require(MailDecoding.boundary(in: contentType))
        #expect(split.body.hasSuffix("\r\n--\(boundary)--\r\n"))
        let parts = MailDecoding.parts(of: split.body, boundary: boundary)
        #expect(parts.count == 2)
        let decoded = parts.map { part in
            let piece = MailDecoding.split(part)
            return (MailDecoding.field("Content-Type", in: part), MailDecoding.decodeQuotedPrintable(piece.body))
        }
        #expect(decoded[0].0 == "text/plain; charset=utf-8")
        #expect(decoded[0].1 == "Plain thanks.")
        #expect(decoded[1].0 == "text/html; charset=utf-8")
        #expect(decoded[1].1 == "<p>Thanks – <b>really</b>.</p>")
        for part in parts { #expect(!part.contains(boundary)) }
    }

    @Test func sameMessageIDRendersTheSameBytes() throws {
        let first = try makeMessage(html: "<p>x</p>").rendered()
        #expect(try makeMessage(html: "<p>x</p>").rendered() == first)
        #expect(try makeMessage(html: "<p>x</p>", messageID: "other@shop.example").rendered() != first)
    }

    @Test func bodyLineStartingWithADotIsStuffedOnlyOnTheWire() throws {
        let message = try makeMessage(text: "Hello\n.hidden line\n.\nend")
        let text = rendered(message)
        #expect(text.contains("\r\n.hidden line\r\n.\r\nend\r\n"))
        let wire = String(decoding: SMTPDataEncoder.encode(message.rendered()), as: UTF8.self)
        #expect(wire.contains("\r\n..hidden line\r\n..\r\nend\r\n.\r\n"))
        #expect(!wire.dropLast(3).contains("\r\n.\r\n"))
    }
}
