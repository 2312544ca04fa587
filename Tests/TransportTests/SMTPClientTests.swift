import Foundation
import Testing
@testable import ShopfloorTransport

private let user = "shop@example.com"
private let password = "p@ss w:rd/é"
/// `user:password` as a URL carries them.
private let encodedCredentials = "shop%40example.com:p%40ss%20w%3Ard%2F%C3%A9"

/// Short enough that a broken test fails quickly, long enough for a loaded two-core machine.
private let testTimeouts = SMTPClient.Timeouts(connect: .seconds(10), command: .seconds(10), data: .seconds(10))

private func makeMail(
    to: [MailAddress]? = nil, subject: String = "Your order", text: String = "Thanks.", html: String? = nil,
    messageID: String = "order-1@shop.example", headers: [(name: String, value: String)] = []
) throws -> MailMessage {
    try MailMessage(
        from: MailAddress("orders@shop.example", displayName: "Shop Floor"), to: to ?? [MailAddress("ada@example.com")],
        subject: subject, text: text, html: html, messageID: messageID, date: Date(timeIntervalSince1970: 1_751_360_700),
        headers: headers)
}

/// Makes a client for `url` on a thread of its own, runs `body` with it there, and closes it (QUIT).
private func withClient<T: Sendable>(
    url: String, trust certificate: String? = nil, timeouts: SMTPClient.Timeouts = testTimeouts,
    _ body: @escaping @Sendable (SMTPClient) throws -> T
) async throws -> T {
    try await onThread {
        let context = try certificate.map { try TLSClientContext(additionalTrustedCertificatesPath: $0) }
        let client = try SMTPClient(
            configuration: SMTPConfiguration(url: url), tlsContext: context, localName: "client.test", timeouts: timeouts)
        defer { client.close() }
        return try body(client)
    }
}

/// `send` with its typed error kept, so a test can compare it.
private func attempt(_ client: SMTPClient, _ mail: MailMessage) -> Result<SMTPDelivery, SMTPError> {
    Result { () throws(SMTPError) in try client.send(mail) }
}

private extension Result where Failure == SMTPError {
    var error: SMTPError? {
        if case .failure(let error) = self { error } else { nil }
    }
}

private func startSink(_ arguments: [String], in directory: TestDirectory, port: Int = 0) async throws -> SMTPSink {
    try await onThread { try SMTPSink(arguments, in: directory, port: port) }
}

@Suite(.serialized) struct SMTPClientTests {
    @Test(.enabled(if: SMTPSink.python != nil, SMTPSink.skipReason))
    func deliversOverSTARTTLSWithAuthPlain() async throws {
        let directory = try TestDirectory()
        let (certificate, key) = try directory.makeCertificate(for: "localhost")
        let sink = try await startSink(["--tls-cert", certificate, "--tls-key", key, "--auth", "\(user):\(password)"], in: directory)
        let subject = "Bestellung Nr. 42 – bestätigt"
        let text = "Hallo Ada,\n.hidden line stays\n.\nDanke für Ihre Bestellung."
        let mail = try makeMail(
            to: [MailAddress("ada@example.com", displayName: "Ada Lovelace"), MailAddress("bob@example.com")],
            subject: subject, text: text, html: "<p>Hallo Ada,</p>\n<p>Danke für Ihre Bestellung.</p>",
            headers: [("List-Unsubscribe", "<https://shop.example/u/42>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")])

        let delivery = try await withClient(url: "smtp://\(encodedCredentials)@localhost:\(sink.port)", trust: certificate) { client in
            try client.send(mail)
        }
        #expect(delivery.reply.code == 250)
        #expect(delivery.text == "2.0.0 Ok: queued as SINK1")
        #expect(!delivery.reusedConnection)
        #expect(delivery.peer.host == "127.0.0.1")
        #expect(delivery.peer.port == sink.port)

        let received = try #require(try sink.messages().first)
        #expect(received.overTLS)
        #expect(received.user == user)
        #expect(received.mailFrom == "orders@shop.example")
        #expect(received.recipients == ["ada@example.com", "bob@example.com"])
        // Byte for byte what the message rendered: dot-stuffing was undone by the server.
        #expect(received.content == String(decoding: mail.rendered(), as: UTF8.self))
        let content = received.content
        #expect(MailDecoding.decodeEncodedWords(try #require(MailDecoding.field("Subject", in: content))) == subject)
        #expect(MailDecoding.field("From", in: content) == "Shop Floor <orders@shop.example>")
        #expect(MailDecoding.field("To", in: content) == "Ada Lovelace <ada@example.com>, bob@example.com")
        #expect(MailDecoding.field("Message-ID", in: content) == "<order-1@shop.example>")
        #expect(MailDecoding.field("Date", in: content) == "Tue, 01 Jul 2025 09:05:00 +0000")
        #expect(MailDecoding.field("List-Unsubscribe", in: content) == "<https://shop.example/u/42>")
        #expect(MailDecoding.field("List-Unsubscribe-Post", in: content) == "List-Unsubscribe=One-Click")
        let contentType = try #require(MailDecoding.field("Content-Type", in: content))
        let boundary = try #require(MailDecoding.boundary(in: contentType))
        let parts = MailDecoding.parts(of: MailDecoding.split(content).body, boundary: boundary)
        #expect(parts.map { MailDecoding.field("Content-Type", in: $0) } == ["text/plain; charset=utf-8", "text/html; charset=utf-8"])
        let decoded = parts.map { MailDecoding.decodeQuotedPrintable(MailDecoding.split($0).body) }
        #expect(decoded == [
            text.replacingOccurrences(of: "\n", with: "\r\n"),
            "<p>Hallo Ada,</p>\r\n<p>Danke für Ihre Bestellung.</p>",
        ])

        let wrongPassword = try await withClient(url: "smtp://shop%40example.com:wrong@localhost:\(sink.port)", trust: certificate) { client in
            attempt(client, mail).error
        }
        guard case .authenticationFailed(535, _) = wrongPassword else {
            Issue.record("expected 535, got \(String(describing: wrongPassword))")
            return
        }
        #expect(wrongPassword?.isTemporary == false)
        #expect(try sink.messages().count == 1)
    }

    @Test(.enabled(if: SMTPSink.python != nil, SMTPSink.skipReason))
    func deliversOverImplicitTLSWithAuthLogin() async throws {
        let directory = try TestDirectory()
        let (certificate, key) = try directory.makeCertificate(for: "localhost")
        let sink = try await startSink(
            ["--tls-cert", certificate, "--tls-key", key, "--implicit-tls", "--auth", "\(user):\(password)", "--exclude-auth", "PLAIN"],
            in: directory)
        let delivery = try await withClient(url: "smtps://\(encodedCredentials)@localhost:\(sink.port)", trust: certificate) { client in
            try client.send(try makeMail())
        }
        #expect(delivery.text == "2.0.0 Ok: queued as SINK1")
        let received = try #require(try sink.messages().first)
        #expect(received.overTLS)
        #expect(received.user == user)
    }

    @Test(.enabled(if: SMTPSink.python != nil, SMTPSink.skipReason))
    func replyFailuresAreClassifiedAndKeepTheConnection() async throws {
        let directory = try TestDirectory()
        let sink = try await startSink(["--fail", "451,554"], in: directory)
        let utf8Mail = try makeMail(to: [MailAddress("jörg@exämple.de")], messageID: "order-3@shop.example")
        let results = try await withClient(url: "smtp://127.0.0.1:\(sink.port)?tls=none") { client in
            [attempt(client, try makeMail()), attempt(client, try makeMail(messageID: "order-2@shop.example")), attempt(client, utf8Mail)]
        }
        #expect(results[0].error == .temporary(code: 451, text: "4.3.0 Failure requested by test sink"))
        #expect(results[0].error?.isTemporary == true)
        #expect(results[1].error == .permanent(code: 554, text: "5.3.0 Failure requested by test sink"))
        #expect(results[1].error?.isTemporary == false)
        let delivery = try results[2].get()
        #expect(delivery.reusedConnection)

        let received = try sink.messages()
        #expect(received.count == 1)
        #expect(received.first?.connection == 1)
        #expect(received.first?.recipients == ["jörg@exämple.de"])
        #expect(received.first?.mailOptions.contains("SMTPUTF8") == true)
        #expect(received.first?.mailOptions.contains("BODY=8BITMIME") == true)
    }

    @Test(
        .enabled(if: SMTPSink.python != nil, SMTPSink.skipReason),
        arguments: [(550, false), (550, true), (450, true)])
    func rejectedRecipientIsReportedAndNothingIsSent(code: Int, pipelining: Bool) async throws {
        let directory = try TestDirectory()
        let sink = try await startSink(["--reject-rcpt", String(code)] + (pipelining ? ["--pipelining"] : []), in: directory)
        let mail = try makeMail(to: [MailAddress("ada@example.com"), MailAddress("bob@example.com")])
        // Twice over one connection: after pipelined replies the dialogue must still be in step.
        let errors = try await withClient(url: "smtp://127.0.0.1:\(sink.port)?tls=none") { client in
            [attempt(client, mail).error, attempt(client, mail).error]
        }
        let expected: SMTPError = code == 550
            ? .recipientRejected(address: "ada@example.com", code: 550, text: "5.1.1 Recipient refused by test sink")
            : .temporary(code: 450, text: "4.2.0 Recipient refused by test sink")
        #expect(errors == [expected, expected])
        #expect(errors[0]?.isTemporary == (code < 500))
        #expect(try sink.messages().isEmpty)
    }

    @Test(.enabled(if: SMTPSink.python != nil, SMTPSink.skipReason))
    func certificateThatDoesNotNameTheHostOrIsNotTrustedIsRefused() async throws {
        let directory = try TestDirectory()
        let (otherCertificate, otherKey) = try directory.makeCertificate(for: "other.example")
        let (localCertificate, _) = try directory.makeCertificate(for: "localhost")
        let sink = try await startSink(["--tls-cert", otherCertificate, "--tls-key", otherKey], in: directory)
        let cases: [(host: String, trust: String?, reason: String)] = [
            ("localhost", otherCertificate, "hostname mismatch"),
            ("127.0.0.1", otherCertificate, "IP address mismatch"),
            // Trusted roots do not include the server's own self-signed certificate.
            ("localhost", localCertificate, "self-signed certificate"),
        ]
        for (host, trust, reason) in cases {
            let error = try await withClient(url: "smtp://\(host):\(sink.port)", trust: trust) { client in
                attempt(client, try makeMail()).error
            }
            guard case .tls(let text) = error else {
                Issue.record("\(host): expected a TLS error, got \(String(describing: error))")
                continue
            }
            #expect(text.contains(reason), "\(host): \(text)")
            #expect(error?.isTemporary == true)
        }
        #expect(try sink.messages().isEmpty)
    }

    @Test(.enabled(if: SMTPSink.python != nil, SMTPSink.skipReason))
    func serverWithoutTLSIsRefusedTLSAndCredentials() async throws {
        let directory = try TestDirectory()
        let sink = try await startSink([], in: directory)
        let required = try await withClient(url: "smtp://localhost:\(sink.port)") { client in attempt(client, try makeMail()).error }
        #expect(required == .tls("the server does not offer STARTTLS, which the configuration requires"))
        let optional = try await withClient(url: "smtp://\(encodedCredentials)@localhost:\(sink.port)?tls=optional") { client in
            attempt(client, try makeMail()).error
        }
        #expect(optional == .authenticationUnsupported("the connection has no TLS, and credentials are never sent in the clear"))
        let plain = try await withClient(url: "smtp://localhost:\(sink.port)?tls=optional") { client in try client.send(try makeMail()) }
        #expect(plain.reply.code == 250)
        #expect(try sink.messages().first?.overTLS == false)
    }

    @Test(.enabled(if: SMTPSink.python != nil, SMTPSink.skipReason))
    func connectionIsReusedAndReopenedWhenTheServerWentAway() async throws {
        let directory = try TestDirectory()
        let (certificate, key) = try directory.makeCertificate(for: "localhost")
        let arguments = ["--tls-cert", certificate, "--tls-key", key, "--auth", "\(user):\(password)", "--pipelining"]
        let first = try await startSink(arguments, in: directory)
        let port = first.port
        let (deliveries, second) = try await withClient(url: "smtp://\(encodedCredentials)@localhost:\(port)", trust: certificate) { client in
            let before = [try client.send(try makeMail(messageID: "a@shop.example")), try client.send(try makeMail(messageID: "b@shop.example"))]
            // The server goes away with the connection open; a new one listens on the same port.
            first.stop()
            let second = try SMTPSink(arguments, in: directory, port: port)
            return (before + [try client.send(try makeMail(messageID: "c@shop.example"))], second)
        }
        #expect(deliveries.map(\.reusedConnection) == [false, true, false])
        #expect(try first.messages().map(\.connection) == [1, 1])
        #expect(try first.messages().map { MailDecoding.field("Message-ID", in: $0.content) } == ["<a@shop.example>", "<b@shop.example>"])
        #expect(try second.messages().map { MailDecoding.field("Message-ID", in: $0.content) } == ["<c@shop.example>"])
        #expect(try second.messages().first?.overTLS == true)
    }

    @Test func silentServerTimesOutWithinTheCommandTimeout() async throws {
        // A listening socket that never accepts: the kernel completes the handshake, nobody speaks.
        let listener = try Socket.makeListening(address: try SocketAddress.resolve(host: "127.0.0.1", port: 0), reusePort: false, backlog: 4)
        defer { listener.close() }
        let port = try listener.localAddress().port
        let timeouts = SMTPClient.Timeouts(connect: .seconds(5), command: .milliseconds(300), data: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await withClient(url: "smtp://127.0.0.1:\(port)?tls=none", timeouts: timeouts) { client in
            attempt(client, try makeMail()).error
        }
        let elapsed = clock.now - start
        guard case .timeout(let text) = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(text.contains("greeting"))
        #expect(error?.isTemporary == true)
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(3))
    }
}
