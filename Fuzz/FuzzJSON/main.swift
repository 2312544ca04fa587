import FuzzSupport
import ShopfloorJSON

/// One input: the bytes as a request body for the JSON parser (with its limits); whatever
/// parses is written back out, as the API writes values it was sent (a customisation, a flow).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard let value = try? JSONParser.parse(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    _ = try? JSONCoding.encode(value)
    return 0
}

fuzz { data, size in fuzzJSON(data, size) }
