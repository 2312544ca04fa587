import CZlib

/// A raw inflate stream (RFC 1951) for permessage-deflate messages (RFC 7692 §7.2.2).
///
/// Owns its `z_stream` and ends it in `deinit`. Not thread-safe: one owner at a time.
final class Inflater {
    private var stream = z_stream()

    /// A window of 15 bits reads what a peer compressed with any smaller window too.
    init(windowBits: Int32 = 15) throws(ZlibError) {
        let status = shopfloor_inflateInit2(&stream, -windowBits)
        guard status == Z_OK else { throw ZlibError(call: "inflateInit2", code: status, message: nil) }
    }

    deinit { inflateEnd(&stream) }

    /// Inflates `input` and appends the result to `output`; throws `tooLarge` once `output` would
    /// pass `limit`, so a small message cannot inflate into a huge one.
    func inflate(_ input: [UInt8], into output: inout [UInt8], limit: Int) throws(InflateFailure) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var status: Int32 = Z_OK
        var failure: InflateFailure?
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { target -> Int in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = CZlib.inflate(&stream, Z_SYNC_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_BUF_ERROR || status == Z_STREAM_END else {
                    failure = .corrupt(stream.msg.map { String(cString: $0) } ?? "inflate failed (\(status))")
                    break
                }
                guard output.count + produced <= limit else {
                    failure = .tooLarge
                    break
                }
                output.append(contentsOf: chunk[..<produced])
                if status == Z_STREAM_END && stream.avail_in > 0 {
                    failure = .corrupt("data after the final deflate block")
                    break
                }
            } while stream.avail_out == 0 || (stream.avail_in > 0 && status == Z_OK)
        }
        stream.next_in = nil
        if let failure { throw failure }
    }

    /// Forgets the sliding window, for peers that do not take context over between messages.
    func reset() {
        inflateReset(&stream)
    }

    enum InflateFailure: Error {
        case tooLarge
        case corrupt(String)
    }
}

@available(*, unavailable)
extension Inflater: Sendable {}
