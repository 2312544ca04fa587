import Foundation
import HTTPTypes
@testable import ShopfloorAPI
import ShopfloorDomain
import ShopfloorTransport
import Testing

@Suite struct RateLimitTests {
    @Test func limitsParse() throws {
        let limit = try #require(RateLimit("30/min:10"))
        #expect(limit.rate == 0.5 && limit.burst == 10 && limit.description == "30/min:10" && limit.window == 20)
        #expect(RateLimit("50/s")?.burst == 50)
        for bad in ["", "off", "30", "30/d", "0/s", "-1/s", "30/s:", "30/s:0", "x/s", "30/s:5:5"] { #expect(RateLimit(bad) == nil, "\(bad)") }
    }

    @Test func aBucketGivesItsBurstThenRefillsAtItsRate() {
        let limit = RateLimit(count: 2, per: "s", burst: 3)
        var bucket = TokenBucket(limit: limit, now: 0)
        for _ in 0..<3 { #expect(bucket.take(limit, now: 0) == nil) }
        #expect(bucket.take(limit, now: 0) == 1)
        #expect(bucket.take(limit, now: 499) == 1)
        #expect(bucket.take(limit, now: 500) == nil)
        #expect(!bucket.isFull(limit, now: 1000) && bucket.isFull(limit, now: 2000))
        // A clock set back gives nothing and takes nothing.
        #expect(bucket.take(limit, now: 100) == 1)
    }

    @Test func theLimiterKeepsCallersApartAndItsTableBounded() {
        let clock = ManualClock()
        let limiter = RateLimiter(name: "address", limit: RateLimit(count: 1, per: "h", burst: 1), clock: clock, maxCallers: 32)
        let one = RateLimiter.Caller.address(IPAddress("192.0.2.1")!)
        #expect(limiter.take(one) == nil)
        #expect(limiter.take(one) == 3600)
        #expect(limiter.take(.key("key_1")) == nil)
        // Thousands of others come and go; the table stays small and the limiter keeps answering.
        for index in 0..<5_000 { _ = limiter.take(.key("key_\(index)")) }
        if case .rateLimited(let policy, _, let wait) = limiter.refusal(retryAfter: 7) { #expect(policy == "address" && wait == 7) }
    }

    @Test func theClientIsTheFirstAddressThatIsNotATrustedProxyFromTheRight() {
        let resolver = ClientAddressResolver(trustedProxies: [IPNetwork("10.0.0.0/8")!, IPNetwork("::1")!])
        func client(peer: String, _ fields: [(String, String)]) -> String? {
            var head = HTTPRequest(method: .get, scheme: nil, authority: "x", path: "/")
            for (name, value) in fields { head.headerFields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
            var request = HTTPServerRequest(head: head)
            request.peer = IPAddress(peer)
            return resolver.client(of: request)?.description
        }
        #expect(client(peer: "203.0.113.1", [("X-Forwarded-For", "198.51.100.1")]) == "203.0.113.1")
        #expect(client(peer: "10.0.0.2", [("X-Forwarded-For", "198.51.100.1")]) == "198.51.100.1")
        #expect(client(peer: "10.0.0.2", [("X-Forwarded-For", "6.6.6.6, 198.51.100.1, 10.0.0.9")]) == "198.51.100.1")
        #expect(client(peer: "10.0.0.2", [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.1")]) == "198.51.100.1")
        #expect(client(peer: "10.0.0.2", [("X-Forwarded-For", "10.0.0.7, 10.0.0.8")]) == "10.0.0.7")
        #expect(client(peer: "10.0.0.2", [("X-Forwarded-For", "unknown")]) == "10.0.0.2")
        #expect(client(peer: "10.0.0.2", [("X-Forwarded-For", "198.51.100.1:8080")]) == "198.51.100.1")
        #expect(client(peer: "::1", [("Forwarded", #"for="[2001:db8::7]:4711";proto=https"#), ("X-Forwarded-For", "6.6.6.6")]) == "2001:db8::7")
        #expect(client(peer: "::1", [("Forwarded", "for=192.0.2.60, for=10.1.1.1")]) == "192.0.2.60")
        #expect(client(peer: "::1", [("Forwarded", "for=_hidden")]) == "::1")
        #expect(client(peer: "::1", []) == "::1")
    }
}
