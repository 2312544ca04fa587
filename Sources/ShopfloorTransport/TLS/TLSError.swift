import COpenSSL

/// An OpenSSL call failed: the call and the messages OpenSSL queued for this thread.
public struct TLSError: Error, Equatable, CustomStringConvertible {
    public let call: String
    public let messages: [String]

    /// Drains the thread's OpenSSL error queue into an error for `call`.
    static func fromQueue(call: String) -> TLSError {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return TLSError(call: call, messages: messages)
    }

    public var description: String {
        "\(call) failed" + (messages.isEmpty ? "" : ": " + messages.joined(separator: "; "))
    }
}
