import FuzzSupport
@testable import ShopfloorTransport

/// One input: the bytes as a connection's input, fed to the request decoder in two reads
/// (split where the first byte says), every request it yields taken, until it needs more or refuses.
/// A crash, a hang or a leak is a finding; a refusal (`HTTPParseError`) is the decoder working.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var limits = HTTPLimits()
    limits.maxBodySize = 64 * 1024
    var decoder = HTTPRequestDecoder(limits: limits)
    var inbound = InboundBuffer()
    let split = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    for part in [bytes[..<split], bytes[split...]] {
        inbound.append(contentsOf: part)
        while true {
            do {
                guard let event = try decoder.next(&inbound) else { break }
                if case .request(let request) = event { _ = (request.path, request.query, request.body.count) }
            } catch {
                return 0
            }
        }
    }
    return 0
}

fuzz { data, size in fuzzHTTPRequest(data, size) }
