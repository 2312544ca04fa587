import Testing
@testable import ShopfloorTransport

/// `HTTPClientURL(text)` with its typed error kept.
private func parse(_ text: String) -> Result<HTTPClientURL, HTTPClientError> {
    Result { () throws(HTTPClientError) in try HTTPClientURL(text) }
}

@Suite struct HTTPClientURLTests {
    @Test(arguments: [
        ("http://example.com", HTTPClientURL.Scheme.http, "example.com", 80, "/", "example.com"),
        ("HTTPS://Shop.Example.COM/hooks/paid?id=42&x=a%2Fb", .https, "shop.example.com", 443, "/hooks/paid?id=42&x=a%2Fb", "shop.example.com"),
        ("http://127.0.0.1:8080/a", .http, "127.0.0.1", 8080, "/a", "127.0.0.1:8080"),
        ("https://example.com:443?q=1", .https, "example.com", 443, "/?q=1", "example.com"),
        ("http://[::1]:9000/x", .http, "::1", 9000, "/x", "[::1]:9000"),
        ("https://[2001:DB8::1]/", .https, "2001:db8::1", 443, "/", "[2001:db8::1]"),
        ("http://my_host-1.local/p;a=b/@c:d/~e!$&'()*+,=", .http, "my_host-1.local", 80, "/p;a=b/@c:d/~e!$&'()*+,=", "my_host-1.local"),
    ])
    func validURLsAreSplitIntoTheirParts(
        text: String, scheme: HTTPClientURL.Scheme, host: String, port: Int, pathAndQuery: String, authority: String
    ) throws {
        let url = try parse(text).get()
        #expect(url.scheme == scheme)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.pathAndQuery == pathAndQuery)
        #expect(url.authority == authority)
        #expect(url.origin == HTTPOrigin(scheme: scheme, host: host, port: port))
    }

    @Test(arguments: [
        ("ftp://example.com/", "the scheme must be http or https"),
        ("example.com/path", "the scheme must be http or https"),
        ("http:/example.com", "the scheme must be http or https"),
        ("http://user:secret@example.com/", "has user information"),
        ("http://example.com@evil.test/", "has user information"),
        ("http://example.com/#top", "has a fragment"),
        ("http://example.com/a b", "contains a space, a control character or a non-ASCII byte"),
        ("http://example.com/a\r\nX-Injected: 1", "contains a space, a control character or a non-ASCII byte"),
        ("http://example.com\r\n/", "contains a space, a control character or a non-ASCII byte"),
        ("http://example.com/\n", "contains a space, a control character or a non-ASCII byte"),
        ("http://example.com/\u{0}", "contains a space, a control character or a non-ASCII byte"),
        ("http://exämple.com/", "contains a space, a control character or a non-ASCII byte"),
        ("http:///path", "has no host"),
        ("http://:80/", "has no host"),
        ("http://exa%6dple.com/", "the host may hold only letters, digits, '-', '.' and '_'"),
        ("http://example.com:/", "the port must be a number from 1 to 65535"),
        ("http://example.com:0/", "the port must be a number from 1 to 65535"),
        ("http://example.com:65536/", "the port must be a number from 1 to 65535"),
        ("http://example.com:80a/", "the port must be a number from 1 to 65535"),
        ("http://example.com:000080/", "the port must be a number from 1 to 65535"),
        ("http://[::1/", "an IPv6 literal lacks its closing bracket"),
        ("http://[::g]/", "the IPv6 literal is not valid"),
        ("http://[fe80::1%25eth0]/", "the IPv6 literal is not valid"),
        ("http://[::1]x/", "unexpected characters after the IPv6 literal"),
        ("http://::1/", "has no host"),
        ("http://example.com/a%2", "the path or query holds a character that must be percent-encoded"),
        ("http://example.com/a%zz", "the path or query holds a character that must be percent-encoded"),
        ("http://example.com/<script>", "the path or query holds a character that must be percent-encoded"),
        ("http://example.com/a\"b", "the path or query holds a character that must be percent-encoded"),
        ("http://example.com/a\\b", "the path or query holds a character that must be percent-encoded"),
    ])
    func invalidURLsAreRefusedWithTheRuleTheyBreak(text: String, reason: String) {
        #expect(parse(text) == .failure(.invalidURL(reason: reason)))
    }

    @Test func descriptionRebuildsTheURLWithoutTheDefaultPort() throws {
        #expect(try HTTPClientURL("HTTPS://Example.com:443/a?b").description == "https://example.com/a?b")
        #expect(try HTTPClientURL("http://[::1]:8080").description == "http://[::1]:8080/")
    }
}
