import Foundation
import ShopfloorDomain
import ShopfloorSQLite
import ShopfloorTesting
import ShopfloorTransport
import Testing
import TransportTesting
@testable import ShopfloorAPI

/// One-click unsubscribe (RFC 8058): links only the server can make, the headers a marketing email
/// carries and a transactional one does not, and the public POST that stops marketing to the address
/// while order messages still go.
@Suite(.timeLimit(.minutes(1))) struct UnsubscribeTests {
    static let links = UnsubscribeLinks(secretsKey: Array(repeating: 7, count: 16), publicURL: "https://shop.example/")

    @Test func aLinkNamesItsAddressAndCannotBeForged() throws {
        let url = Self.links.url(for: "ada+news@example.com", channel: .email)
        #expect(url.hasPrefix("https://shop.example/v1/unsubscribe/"))
        let token = String(url.dropFirst("https://shop.example/v1/unsubscribe/".count))
        let subject = try #require(Self.links.subject(of: token))
        #expect(subject.channel == .email && subject.address == "ada+news@example.com")
        let other = UnsubscribeLinks(secretsKey: Array(repeating: 8, count: 16), publicURL: "https://shop.example")
        #expect(other.subject(of: token) == nil)
        let parts = token.split(separator: ".")
        let forged = Base64URLForTests.encode("email:eve@example.com") + "." + parts[1]
        #expect(Self.links.subject(of: forged) == nil)
        #expect(Self.links.subject(of: "nonsense") == nil)
    }

    @Test func marketingMailCarriesTheOneClickHeadersAndOrderMailDoesNot() throws {
        let sender = try EmailSender(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:1?tls=none"), from: "Shop <shop@example.com>",
                                     trust: nil, connections: 1, unsubscribe: Self.links)
        defer { sender.close() }
        func message(transactional: Bool) -> Message {
            Message(id: .make(), channel: .email, recipient: "ada@example.com", template: "back_in_stock", subject: "Back", text: "Hi",
                    html: nil, status: .queued, attempts: 0, nextAttemptAt: nil, nextAttemptAtMilliseconds: nil, lastError: nil, skipReason: nil,
                    customerID: nil, orderID: nil, transactional: transactional, createdAt: "2026-12-06T10:00:00Z",
                    updatedAt: "2026-12-06T10:00:00Z", sentAt: nil)
        }
        let marketing = try sender.mail(for: message(transactional: false)).headers
        #expect(marketing.contains { $0.name == "List-Unsubscribe" && $0.value == "<\(Self.links.url(for: "ada@example.com", channel: .email))>" })
        #expect(marketing.contains { $0.name == "List-Unsubscribe-Post" && $0.value == "List-Unsubscribe=One-Click" })
        let order = try sender.mail(for: message(transactional: true)).headers
        #expect(!order.contains { $0.name.hasPrefix("List-Unsubscribe") })
    }

    @Test func theOneClickPostStopsMarketingButNotOrderMessages() async throws {
        // A mail server nobody listens on: the channel is set up, so only the unsubscribe can skip a message.
        try await withTestServer(configure: { configuration in
            configuration.adminKey = testAdminKey
            configuration.publicURL = "https://shop.example"
            configuration.smtpURL = "smtp://127.0.0.1:1?tls=none"
        }) { server in
            let links = UnsubscribeLinks(secretsKey: try FileKeySealer.loadKey(dataDirectory: server.dataDirectory),
                                         publicURL: "https://shop.example")
            let client = try await server.connect()
            defer { client.close() }
            let form = [("Content-Type", "application/x-www-form-urlencoded")]
            let token = links.token(for: "ada@example.com", channel: .email)
            // A GET (a link scanner) only shows the page whose button posts the form.
            let page = try await client.request("GET", "/v1/unsubscribe/\(token)")
            #expect(page.status == 200)
            #expect(page.bodyText.contains(#"<form method="post" action="/v1/unsubscribe/\#(token)">"#))
            #expect(try await client.request("GET", "/v1/suppressions", headers: [("Authorization", "Bearer \(testAdminKey)")]).bodyText
                .contains("ada@example.com") == false)
            let done = try await client.request("POST", "/v1/unsubscribe/\(token)", headers: form, body: Array("List-Unsubscribe=One-Click".utf8))
            #expect(done.status == 200)
            #expect(done.bodyText == #"{"address":"ada@example.com","channel":"email","unsubscribed":true}"#)
            #expect(try await client.request("POST", "/v1/unsubscribe/\(token)x", headers: form).status == 404)

            let listed = try await client.request("GET", "/v1/suppressions", headers: [("Authorization", "Bearer \(testAdminKey)")])
            #expect(listed.bodyText.contains(#""reason":"unsubscribed""#))

            let writer = Stores.sqlite(server.application.database).writer
            let queue = { (transactional: Bool) in
                try await writer.write { transaction in
                    try server.application.messages.queue(
                        .init(channel: .email, recipient: "ADA@example.com", template: "back_in_stock", data: ["product": ["title": "Mug"]],
                              transactional: transactional), in: transaction)
                }
            }
            let marketing = try await queue(false)
            #expect(marketing.status == .skipped && marketing.skipReason == "unsubscribed")
            let order = try await queue(true)
            #expect(order.status == .queued && order.skipReason == nil)
        }
    }
}

/// Unpadded base64url, to forge a token's first part in a test.
private enum Base64URLForTests {
    static func encode(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
