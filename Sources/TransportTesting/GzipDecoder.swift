import CZlib

/// Decompresses a whole gzip member (RFC 1952), so tests can check that a compressed body is the
/// original one. The transport has no inflater yet; this one is for tests only.
public enum GzipDecoder {
    /// zlib refused the input: the call and its status code.
    public struct Failure: Error, Equatable {
        public let call: String
        public let code: Int32
    }

    public static func decode(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer around a 32 KiB-window deflate stream.
        let initStatus = shopfloor_inflateInit2(&stream, 15 + 16)
        guard initStatus == Z_OK else { throw Failure(call: "inflateInit2", code: initStatus) }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { target -> Int in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[..<produced])
            } while status == Z_OK
        }
        guard status == Z_STREAM_END, stream.avail_in == 0 else { throw Failure(call: "inflate", code: status) }
        return output
    }
}
