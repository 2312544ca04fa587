import Foundation
import HTTPTypes
import ShopfloorTransport

/// Who the client is, by address: the socket's peer, unless the peer is a trusted proxy
/// (`--trusted-proxies`, loopback by default), whose `Forwarded` (RFC 7239) or else
/// `X-Forwarded-For` names the client.
///
/// Forwarding headers are read from the right, the end the nearest proxy wrote: every address a
/// trusted proxy added is passed over, and the first one that is not a trusted proxy is the client.
/// Whatever a client writes into these headers itself stands further left, so it is never taken.
struct ClientAddressResolver: Sendable {
    let trustedProxies: [IPNetwork]

    static let forwarded = HTTPField.Name("Forwarded")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func client(of request: HTTPServerRequest) -> IPAddress? {
        guard let peer = request.peer, isTrusted(peer) else { return request.peer }
        let fields = request.head.headerFields
        let hops: [Substring]
        if fields[Self.forwarded] != nil {
            hops = fields[values: Self.forwarded].flatMap { $0.split(separator: ",") }.compactMap(Self.forParameter)
        } else {
            hops = fields[values: Self.forwardedFor].flatMap { $0.split(separator: ",") }
        }
        var client = peer
        for hop in hops.reversed() {
            // Something other than an address (a name, "unknown", an obfuscated id) ends the chain:
            // the last trusted hop is as far as anyone vouches for.
            guard let address = IPAddress(Self.trimmed(hop)) else { break }
            client = address
            guard isTrusted(address) else { break }
        }
        return client
    }

    private func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The `for=` value of one `Forwarded` element, quotes, brackets and port removed.
    static func forParameter(_ element: Substring) -> Substring? {
        for pair in element.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
            var value = Substring(parts[1].trimmingCharacters(in: .whitespaces))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return value
        }
        return nil
    }

    /// An address as forwarding headers write it: spaces around, `[v6]:port` or `v4:port`.
    private static func trimmed(_ hop: Substring) -> Substring {
        var hop = Substring(hop.trimmingCharacters(in: .whitespaces))
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") { return hop[hop.index(after: hop.startIndex)..<close] }
        if hop.filter({ $0 == ":" }).count == 1, let colon = hop.firstIndex(of: ":") { hop = hop[..<colon] }
        return hop
    }
}
