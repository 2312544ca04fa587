import HTTPTypes
import Testing
@testable import ShopfloorTransport

/// `HTTPRequestEncoder.encode` as text, with its typed error kept.
private func encode(_ request: HTTPClientRequest) -> Result<String, HTTPClientError> {
    Result { () throws(HTTPClientError) in String(decoding: try HTTPRequestEncoder.encode(request), as: UTF8.self) }
}

@Suite struct HTTPRequestEncoderTests {
    @Test func postCarriesHostAgentFieldsLengthAndBody() throws {
        let request = HTTPClientRequest(
            method: .post, url: try HTTPClientURL("https://hooks.example:8443/paid?x=1"),
            headerFields: [.contentType: "application/json", HTTPField.Name("X-Signature")!: "t=1,v1=abc"], body: Array("{\"a\":1}".utf8))
        #expect(try encode(request).get() == """
            POST /paid?x=1 HTTP/1.1\r
            Host: hooks.example:8443\r
            User-Agent: shopfloor\r
            Content-Type: application/json\r
            X-Signature: t=1,v1=abc\r
            Content-Length: 7\r
            \r
            {"a":1}
            """)
    }

    @Test func getHasNoLengthAndTheCallersAgentWins() throws {
        let request = HTTPClientRequest(url: try HTTPClientURL("http://[::1]/"), headerFields: [.userAgent: "probe/1"])
        #expect(try encode(request).get() == "GET / HTTP/1.1\r\nHost: [::1]\r\nUser-Agent: probe/1\r\n\r\n")
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .patch])
    func emptyBodyOfAMethodWithContentIsLengthZero(method: HTTPRequest.Method) throws {
        let text = try encode(HTTPClientRequest(method: method, url: try HTTPClientURL("http://example.com/"))).get()
        #expect(text.hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    @Test(arguments: ["Host", "Content-Length", "transfer-encoding", "Expect", "Upgrade"])
    func fieldsTheClientWritesAreRefused(name: String) throws {
        let request = HTTPClientRequest(url: try HTTPClientURL("http://example.com/"), headerFields: [HTTPField.Name(name)!: "x"])
        #expect(encode(request) == .failure(.invalidRequest(reason: "\(name.lowercased()) is written by the client")))
    }

    @Test func controlCharactersInAValueAreRefused() throws {
        for byte: UInt8 in [0x01, 0x1F, 0x7F] {
            let field = HTTPField(name: HTTPField.Name("X-Bad")!, lenientValue: [UInt8(ascii: "a"), byte, UInt8(ascii: "b")])
            let request = HTTPClientRequest(url: try HTTPClientURL("http://example.com/"), headerFields: HTTPFields([field]))
            #expect(encode(request) == .failure(.invalidRequest(reason: "the value of x-bad holds a control character")))
        }
    }

    /// CR, LF and NUL never reach the wire: swift-http-types turns them into spaces when the field is
    /// made, so the value stays on its line.
    @Test func lineBreaksInAValueCannotStartAField() throws {
        let field = HTTPField(name: HTTPField.Name("X-Note")!, lenientValue: Array("a\r\nInjected: yes\u{0}".utf8))
        let text = try encode(HTTPClientRequest(url: try HTTPClientURL("http://example.com/"), headerFields: HTTPFields([field]))).get()
        #expect(text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init) == ["GET / HTTP/1.1", "Host: example.com", "User-Agent: shopfloor", "X-Note: a  Injected: yes ", "", ""])
    }

    @Test func connectIsRefused() throws {
        let request = HTTPClientRequest(method: .connect, url: try HTTPClientURL("http://example.com/"))
        #expect(encode(request) == .failure(.invalidRequest(reason: "CONNECT opens a tunnel, which this client does not")))
    }
}
