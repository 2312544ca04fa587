#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the call's name and the `errno` it left, with `strerror`'s text.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    /// The name of the failing call, such as `"bind"`.
    public let call: String
    /// The `errno` value the call set.
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
