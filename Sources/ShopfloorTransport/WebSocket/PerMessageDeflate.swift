import CZlib

/// permessage-deflate (RFC 7692): the parameters agreed in the handshake, and compression of
/// outbound messages.
///
/// The server always answers with `server_no_context_takeover`, so each outbound message is
/// compressed on its own and a broadcast can be compressed once for every subscriber; and with
/// `client_no_context_takeover` when it prefers not to keep a 32 KiB window per idle connection.
struct PerMessageDeflate: Sendable, Equatable {
    /// Window bits for messages the server compresses (the client's `server_max_window_bits`, else 15).
    var serverMaxWindowBits: Int32 = 15
    /// Whether the client resets its compressor after each message, so the server's inflater may too.
    var clientNoContextTakeover = true

    /// The `Sec-WebSocket-Extensions` value of the response.
    var responseValue: String {
        var value = "permessage-deflate; server_no_context_takeover"
        if clientNoContextTakeover { value += "; client_no_context_takeover" }
        if serverMaxWindowBits < 15 { value += "; server_max_window_bits=\(serverMaxWindowBits)" }
        return value
    }

    /// Picks the first acceptable permessage-deflate offer from the request's extension header values
    /// (RFC 7692 §5, §7.1). Offers with unknown, repeated or malformed parameters are declined, as is
    /// `server_max_window_bits=8`, which zlib cannot produce for raw deflate.
    static func negotiate(offers headerValues: [String], requireClientNoContextTakeover: Bool) -> PerMessageDeflate? {
        for offer in headerValues.flatMap({ $0.split(separator: ",") }) {
            let parts = offer.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
            guard parts.first?.lowercased() == "permessage-deflate" else { continue }
            if let accepted = accept(parameters: parts.dropFirst(), requireClientNoContextTakeover: requireClientNoContextTakeover) {
                return accepted
            }
        }
        return nil
    }

    private static func accept(parameters: ArraySlice<String>, requireClientNoContextTakeover: Bool) -> PerMessageDeflate? {
        var result = PerMessageDeflate(clientNoContextTakeover: requireClientNoContextTakeover)
        var seen: Set<String> = []
        for parameter in parameters {
            // Empty parameters and empty values (`;;`, `name=`) are malformed: decline the offer.
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: " \t") }
            guard let name = pair.first?.lowercased(), !name.isEmpty else { return nil }
            let value = pair.count == 2 ? pair[1].trimmingCharacters(in: "\"") : nil
            if let value, value.isEmpty { return nil }
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                result.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value, let bits = windowBits(value), bits >= 9 else { return nil }
                result.serverMaxWindowBits = bits
            case "client_max_window_bits":
                if let value, windowBits(value) == nil { return nil }
            default:
                return nil
            }
        }
        return result
    }

    private static func windowBits(_ text: String) -> Int32? {
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let bits = Int32(text), (8...15).contains(bits) else {
            return nil
        }
        return bits
    }

    /// Compresses one whole message on its own (no context kept) and drops the final empty block's
    /// `00 00 FF FF` tail (RFC 7692 §7.2.1).
    static func compress(_ payload: [UInt8], windowBits: Int32, using deflaters: inout [Int32: Deflater]) -> [UInt8]? {
        let deflater: Deflater
        if let cached = deflaters[windowBits] {
            deflater = cached
        } else {
            guard let created = try? Deflater(format: .raw(windowBits: windowBits)) else { return nil }
            deflaters[windowBits] = created
            deflater = created
        }
        defer { deflater.reset() }
        guard var compressed = try? deflater.compress(payload, flush: Z_SYNC_FLUSH), compressed.count >= 4 else { return nil }
        compressed.removeLast(4)
        return compressed
    }
}
