import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Runs libFuzzer's driver on `body` with the process's flags (`-max_total_time`, a corpus directory,
/// …) and exits with its status. A target calls it from its top level: SwiftPM links an executable's
/// `main` to that, and libFuzzer's own `main`, where the linker takes it, finds the same function by
/// its C name `LLVMFuzzerTestOneInput`.
public func fuzz(_ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var arguments = CommandLine.argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(runDriver(&arguments, &vector, body))
}
