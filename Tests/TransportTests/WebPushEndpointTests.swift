import Testing
import ShopfloorTransport

@Suite struct WebPushEndpointTests {
    @Test(arguments: [
        ("https://fcm.googleapis.com/fcm/send/abc:def", "https://fcm.googleapis.com", "fcm.googleapis.com", 443, "/fcm/send/abc:def"),
        ("https://updates.push.services.mozilla.com:443/wpush/v2/gAAA", "https://updates.push.services.mozilla.com",
         "updates.push.services.mozilla.com", 443, "/wpush/v2/gAAA"),
        ("HTTPS://Push.Example.COM:8443/p?x=1", "https://push.example.com:8443", "push.example.com", 8443, "/p?x=1"),
        ("http://127.0.0.1:54321/push/id", "http://127.0.0.1:54321", "127.0.0.1", 54321, "/push/id"),
        ("http://localhost", "http://localhost", "localhost", 80, "/"),
        ("https://[::1]:9000/push", "https://[::1]:9000", "[::1]", 9000, "/push"),
        ("https://[2001:DB8::1]/push", "https://[2001:db8::1]", "[2001:db8::1]", 443, "/push"),
        ("https://push.example?token=1", "https://push.example", "push.example", 443, "/?token=1"),
    ])
    func takesTheURLApart(url: String, origin: String, host: String, port: Int, target: String) throws {
        let endpoint = try WebPushEndpoint(url)
        #expect(endpoint.origin == origin)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
        #expect(endpoint.target == target)
        #expect(endpoint.url == url)
    }

    @Test(arguments: [
        "ftp://push.example/x", "push.example/x", "https:///x", "https://user:pw@push.example/x", "https://push.example/x#frag",
        "https://push.example:0/x", "https://push.example:65536/x", "https://push.example:/x", "https://push.example:8a/x",
        "https://push example/x", "https://push.example/x y", "https://push.example/x\r\nHost: evil", "https://pusḥ.example/",
        "https://[::1/x", "https://[]/x", "https://pu\"sh.example/", "https://[::1]x/",
    ])
    func refusesWhatIsNotAnAbsoluteHTTPURL(url: String) {
        #expect(throws: WebPushError.invalidEndpoint(url)) { try WebPushEndpoint(url) }
    }
}
