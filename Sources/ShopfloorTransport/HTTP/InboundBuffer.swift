/// Bytes received on a connection and not yet consumed by a decoder.
struct InboundBuffer {
    private(set) var bytes: [UInt8] = []
    private(set) var readerIndex = 0

    var readableCount: Int { bytes.count - readerIndex }
    var isEmpty: Bool { readerIndex == bytes.count }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        bytes.append(contentsOf: chunk)
    }

    mutating func append<S: Sequence>(contentsOf chunk: S) where S.Element == UInt8 {
        compactIfWorthwhile()
        bytes.append(contentsOf: chunk)
    }

    mutating func moveReaderIndex(by count: Int) {
        precondition(count <= readableCount)
        readerIndex += count
        if readerIndex == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 64 * 1024)
            readerIndex = 0
        }
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: false)
        readerIndex = 0
    }

    /// Drops consumed bytes once they are the larger part of the buffer, so a long-lived pipelined
    /// connection does not keep growing its array.
    private mutating func compactIfWorthwhile() {
        if readerIndex > 0 && readerIndex >= bytes.count / 2 {
            bytes.removeFirst(readerIndex)
            readerIndex = 0
        }
    }
}
