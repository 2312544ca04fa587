import ShopfloorTransport
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [("192.0.2.1", "192.0.2.1"), ("2001:db8::1", "2001:db8::1"), ("[2001:db8::1]", "2001:db8::1"), ("::1", "::1"),
                      ("::ffff:192.0.2.1", "192.0.2.1")])
    func parsesAndPrints(_ text: String, _ printed: String) throws {
        #expect(try #require(IPAddress(text)).description == printed)
    }

    @Test(arguments: ["", "localhost", "192.0.2.1:80", "256.0.0.1", "1.2.3", "2001:db8::1%eth0", "fe80::/10", "[::1"])
    func refusesWhatIsNotOneAddress(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func anIPv4AddressIsOneKeyInEitherForm() {
        #expect(IPAddress("192.0.2.1") == IPAddress("::ffff:192.0.2.1"))
        #expect(IPAddress("192.0.2.1")?.isIPv4 == true && IPAddress("::1")?.isIPv4 == false)
    }

    @Test func networksMatchTheirPrefixOnly() throws {
        let ten = try #require(IPNetwork("10.0.0.0/8"))
        #expect(ten.contains(IPAddress("10.255.3.4")!) && !ten.contains(IPAddress("11.0.0.1")!))
        #expect(!ten.contains(IPAddress("::a00:1")!), "an IPv6 address that is not IPv4-mapped is not in an IPv4 network")
        let six = try #require(IPNetwork("2001:db8::/32"))
        #expect(six.contains(IPAddress("2001:db8:ffff::1")!) && !six.contains(IPAddress("2001:db9::1")!))
        #expect(IPNetwork("10.1.2.3/8") == ten && ten.description == "10.0.0.0/8")
        #expect(IPNetwork("0.0.0.0/0")!.contains(IPAddress("203.0.113.9")!))
        #expect(IPNetwork("192.0.2.7")!.contains(IPAddress("192.0.2.7")!) && !IPNetwork("192.0.2.7")!.contains(IPAddress("192.0.2.8")!))
        #expect(IPNetwork.loopback.contains { $0.contains(IPAddress("127.8.9.1")!) } && IPNetwork.loopback.contains { $0.contains(IPAddress("::1")!) })
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/", "x/8", "10.0.0.0/8/1"])
    func refusesMalformedNetworks(_ text: String) {
        #expect(IPNetwork(text) == nil)
    }
}
