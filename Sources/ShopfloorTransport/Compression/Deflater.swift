import CZlib

/// A zlib deflate stream: gzip for HTTP bodies, raw deflate for WebSocket messages.
///
/// Owns its `z_stream` and ends it in `deinit`. Not thread-safe: one owner at a time.
public final class Deflater {
    /// The framing zlib writes around the compressed data.
    public enum Format: Sendable {
        /// RFC 1952 gzip, for `Content-Encoding: gzip`.
        case gzip
        /// RFC 1951 raw deflate with the given window, for permessage-deflate (RFC 7692).
        case raw(windowBits: Int32)
    }

    private var stream = z_stream()

    public init(format: Format, level: Int32 = 6) throws(ZlibError) {
        let windowBits: Int32 = switch format {
        case .gzip: 15 + 16
        case .raw(let bits): -bits
        }
        let status = shopfloor_deflateInit2(&stream, level, windowBits, 8)
        guard status == Z_OK else { throw ZlibError(call: "deflateInit2", code: status, message: nil) }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses all of `input` and ends the stream (`Z_FINISH`). For one-shot bodies.
    public static func gzip(_ input: [UInt8], level: Int32 = 6) throws(ZlibError) -> [UInt8] {
        let deflater = try Deflater(format: .gzip, level: level)
        return try deflater.compress(input, flush: Z_FINISH)
    }

    /// Starts a new stream with the same settings, forgetting the window.
    public func reset() {
        deflateReset(&stream)
    }

    /// Compresses `input` with the given flush mode (`Z_FINISH`, `Z_SYNC_FLUSH`, ...).
    public func compress(_ input: [UInt8], flush: Int32) throws(ZlibError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 16)
        var produced = 0
        var status: Int32 = Z_OK
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            repeat {
                if produced == output.count { output.append(contentsOf: repeatElement(0, count: output.count)) }
                output.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress! + produced
                    stream.avail_out = uInt(target.count - produced)
                    status = deflate(&stream, flush)
                    produced = target.count - Int(stream.avail_out)
                }
            } while (status == Z_OK || status == Z_BUF_ERROR) && stream.avail_out == 0
        }
        stream.next_in = nil
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
            throw ZlibError(call: "deflate", code: status, message: stream.msg.map { String(cString: $0) })
        }
        output.removeSubrange(produced...)
        return output
    }
}

@available(*, unavailable)
extension Deflater: Sendable {}
