/// A zlib call failed: the call, its return code and `z_stream.msg` when zlib set one.
public struct ZlibError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public let message: String?

    public var description: String {
        "\(call) failed with \(code)\(message.map { ": \($0)" } ?? "")"
    }
}
