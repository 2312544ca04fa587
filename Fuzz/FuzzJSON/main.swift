import Foundation
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

/// libFuzzer's driver, which runs the fuzzing loop with `-max_total_time` and the other flags. SwiftPM
/// links an executable's `main` to its module's top level, so that runs it; libFuzzer's own `main`,
/// where the linker takes it, finds the input function as `LLVMFuzzerTestOneInput` all the same.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzer(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var arguments = CommandLine.argc
var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(runFuzzer(&arguments, &vector) { data, size in fuzzJSON(data, size) })
