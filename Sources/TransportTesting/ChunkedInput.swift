/// Every way a codec test should feed one input: whole, one byte at a time, and split in two at each
/// boundary, since a decoder must give the same result however the network cuts its input.
///
/// For long inputs the two-part splits are sampled: the first and last `edge` boundaries (where
/// terminators sit) and `samples` evenly spaced ones between, so a 64 KiB case stays fast.
public struct ChunkedInput: Sequence, Sendable {
    /// One way of delivering the input: the parts in order, and a name for failure messages.
    public struct Delivery: Sendable, CustomStringConvertible {
        public let parts: [[UInt8]]
        public let description: String
    }

    public let bytes: [UInt8]
    public let deliveries: [Delivery]

    public init(_ bytes: [UInt8], edge: Int = 256, samples: Int = 64) {
        self.bytes = bytes
        var deliveries = [Delivery(parts: [bytes], description: "whole")]
        if bytes.count > 1 {
            deliveries.append(Delivery(parts: bytes.map { [$0] }, description: "byte by byte"))
            let boundaries = 1..<bytes.count
            let chosen: [Int]
            if boundaries.count <= 2 * edge + samples {
                chosen = Array(boundaries)
            } else {
                let step = (bytes.count - 2 * edge) / samples
                let middle = stride(from: edge + step, to: bytes.count - edge, by: Swift.max(1, step))
                chosen = Array(1...edge) + Array(middle) + Array((bytes.count - edge)..<bytes.count)
            }
            for split in chosen {
                deliveries.append(Delivery(parts: [Array(bytes[..<split]), Array(bytes[split...])], description: "split at \(split)"))
            }
        }
        self.deliveries = deliveries
    }

    public init(_ text: String, edge: Int = 256, samples: Int = 64) {
        self.init(Array(text.utf8), edge: edge, samples: samples)
    }

    public func makeIterator() -> IndexingIterator<[Delivery]> {
        deliveries.makeIterator()
    }
}
