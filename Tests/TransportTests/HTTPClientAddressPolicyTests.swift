#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ShopfloorTransport

/// The 4 or 16 bytes of an IP literal.
private func bytes(_ literal: String) -> [UInt8] {
    if literal.contains(":") {
        var address = in6_addr()
        precondition(inet_pton(AF_INET6, literal, &address) == 1, literal)
        return withUnsafeBytes(of: address) { Array($0) }
    }
    var address = in_addr()
    precondition(inet_pton(AF_INET, literal, &address) == 1, literal)
    return withUnsafeBytes(of: address) { Array($0) }
}

@Suite struct HTTPClientAddressPolicyTests {
    @Test(arguments: [
        "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255", "127.0.0.1", "127.8.9.10",
        "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.168.1.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255",
        "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:192.168.0.1", "::127.0.0.1", "::10.0.0.1",
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
    ])
    func nonPublicAddressesAreRefused(literal: String) {
        #expect(!HTTPClientAddressPolicy.isPublic(bytes(literal)))
    }

    @Test(arguments: [
        "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "100.63.255.255", "100.128.0.1", "126.255.255.255", "128.0.0.1",
        "169.253.0.1", "169.255.0.1", "172.15.255.255", "172.32.0.1", "192.167.1.1", "192.169.1.1", "223.255.255.255",
        "2001:4860:4860::8888", "2606:4700::1111", "fe00::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
    ])
    func publicAddressesAreAdmitted(literal: String) {
        #expect(HTTPClientAddressPolicy.isPublic(bytes(literal)))
    }
}

@Suite struct HTTPClientLiteralHostTests {
    @Test(arguments: ["127.0.0.1", "10.1.2.3", "[::1]", "::1", "[fe80::1]", "169.254.169.254", "localhost", "LOCALHOST", "api.localhost",
                      "[::ffff:192.168.0.1]"])
    func privateLiteralsAndLocalhostAreRefused(host: String) {
        #expect(!HTTPClientAddressPolicy.publicOnly.admits(literalHost: host))
        #expect(HTTPClientAddressPolicy.any.admits(literalHost: host))
    }

    @Test(arguments: ["93.184.215.14", "[2606:4700::1111]", "hooks.example.com", "localhost.example.com"])
    func publicLiteralsAndNamesAreAdmitted(host: String) {
        #expect(HTTPClientAddressPolicy.publicOnly.admits(literalHost: host))
    }
}
