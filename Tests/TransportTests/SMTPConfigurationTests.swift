import Testing
@testable import ShopfloorTransport

private func configuration(_ url: String) -> Result<SMTPConfiguration, SMTPConfigurationError> {
    Result { () throws(SMTPConfigurationError) in try SMTPConfiguration(url: url) }
}

@Suite struct SMTPConfigurationTests {
    @Test func submissionURLRequiresSTARTTLSOnPort587() throws {
        let parsed = try SMTPConfiguration(url: "smtp://mail.example.com")
        #expect(parsed == SMTPConfiguration(host: "mail.example.com", port: 587, security: .startTLS))
        #expect(parsed.credentials == nil)
    }

    @Test func credentialsArePercentDecoded() throws {
        let parsed = try SMTPConfiguration(url: "smtp://shop%40example.com:p%40ss%3Aw%2Fo%20rd%C3%A9@mail.example.com:2525")
        #expect(parsed.credentials == SMTPCredentials(user: "shop@example.com", password: "p@ss:w/o rdé"))
        #expect(parsed.host == "mail.example.com")
        #expect(parsed.port == 2525)
    }

    @Test func userInformationEndsAtTheLastAt() throws {
        let parsed = try SMTPConfiguration(url: "smtp://user:p@ss/w?rd#x@mail.example.com")
        #expect(parsed.credentials == SMTPCredentials(user: "user", password: "p@ss/w?rd#x"))
        #expect(parsed.host == "mail.example.com")
    }

    @Test(arguments: [
        ("smtp://relay?tls=required", SMTPConfiguration.Security.startTLS),
        ("smtp://relay/?tls=optional", .startTLSIfOffered),
        ("smtp://relay:25?tls=none", .none),
        ("SMTP://relay", .startTLS),
    ])
    func tlsModeComesFromTheQuery(_ url: String, _ security: SMTPConfiguration.Security) throws {
        #expect(try SMTPConfiguration(url: url).security == security)
    }

    @Test func smtpsIsImplicitTLSOnPort465() throws {
        #expect(try SMTPConfiguration(url: "smtps://u:p@mail.example.com") == SMTPConfiguration(
            host: "mail.example.com", port: 465, security: .implicitTLS, credentials: SMTPCredentials(user: "u", password: "p")))
        #expect(try SMTPConfiguration(url: "smtps://mail.example.com:2465").port == 2465)
    }

    @Test func ipv6LiteralIsBracketed() throws {
        let parsed = try SMTPConfiguration(url: "smtp://[::1]:2525?tls=none")
        #expect(parsed.host == "::1")
        #expect(parsed.port == 2525)
        #expect(parsed.description == "smtp://[::1]:2525?tls=none")
    }

    @Test(arguments: [
        ("mail.example.com", SMTPConfigurationError.malformed("expected smtp://host or smtps://host")),
        ("http://mail.example.com", .unsupportedScheme("http")),
        ("smtp://:secret@mail.example.com", .invalidCredentials("user name missing")),
        ("smtp://user@mail.example.com", .invalidCredentials("password missing")),
        ("smtp://user:@mail.example.com", .invalidCredentials("password missing")),
        ("smtp://user:sec%zzret@mail.example.com", .invalidCredentials("password is not valid percent-encoding")),
        ("smtp://user:sec%ffret@mail.example.com", .invalidCredentials("password is not UTF-8")),
        ("smtp://user:sec%00ret@mail.example.com", .invalidCredentials("password holds a NUL")),
        ("smtp://user:secret@mail.example.com?tls=none", .credentialsWithoutTLS),
        ("smtp://", .invalidHost("")),
        ("smtp://mail example.com", .invalidHost("mail example.com")),
        ("smtp://[::1", .invalidHost("[::1")),
        ("smtp://mail.example.com:0", .invalidPort("0")),
        ("smtp://mail.example.com:65536", .invalidPort("65536")),
        ("smtp://mail.example.com:", .invalidPort("")),
        ("smtp://mail.example.com:25x", .invalidPort("25x")),
        ("smtp://mail.example.com/inbox", .unexpectedPath),
        ("smtp://mail.example.com#top", .malformed("a fragment is not allowed")),
        ("smtp://mail.example.com?starttls=yes", .unsupportedParameter("starttls")),
        ("smtp://mail.example.com?tls=none&tls=required", .unsupportedParameter("tls")),
        ("smtp://mail.example.com?tls=maybe", .invalidTLSMode("maybe")),
        ("smtps://mail.example.com?tls=none", .invalidTLSMode("none")),
    ])
    func badURLIsRefusedWithItsReason(_ url: String, _ expected: SMTPConfigurationError) {
        #expect(configuration(url) == .failure(expected))
    }

    @Test func passwordAppearsInNoTextForm() throws {
        let parsed = try SMTPConfiguration(url: "smtp://shop:s3cr3t-pw@mail.example.com?tls=optional")
        #expect(parsed.description == "smtp://shop@mail.example.com:587?tls=optional")
        var dumped = ""
        dump(parsed, to: &dumped)
        for text in ["\(parsed)", String(reflecting: parsed), dumped, "\(parsed.credentials!)", String(reflecting: parsed.credentials!)] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
        #expect(dumped.contains("shop"))
    }

    @Test func errorsNeverQuoteTheUserInformation() {
        for url in ["smtp://user:s3cr3t@host:bad", "smtp://user:s3cr3t/x@host/path", "smtp://user:s3cr3t%zz@host", "smtp://u:s3cr3t@ho st"] {
            guard case .failure(let error) = configuration(url) else {
                Issue.record("\(url) parsed")
                continue
            }
            #expect(!error.description.contains("s3cr3t"), "\(error)")
        }
    }

    @Test func localNameMustBeADomainOrAddressLiteral() throws {
        let plain = SMTPConfiguration(host: "relay", security: .none)
        _ = try SMTPClient(configuration: plain, localName: "shop.example.com")
        _ = try SMTPClient(configuration: plain, localName: "[192.0.2.1]")
        _ = try SMTPClient(configuration: plain, localName: "[IPv6:2001:db8::1]")
        for name in ["", "shop example", "shop\r\nRCPT TO:<x@y>", "[192.0.2.1"] {
            #expect(throws: SMTPConfigurationError.invalidLocalName(name)) { try SMTPClient(configuration: plain, localName: name) }
        }
    }
}
