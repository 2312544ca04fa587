public import Logging
import Synchronization

/// Keeps what a logger was told, in order, for a test to read: which job failed, which service
/// stopped before which. Its ``logger`` logs every level.
public final class LogRecorder: Sendable {
    public struct Record: Sendable {
        public let level: Logger.Level
        public let message: String
        /// The logger's and the call's metadata, rendered as text.
        public let metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    public init() {}

    /// Everything logged so far, oldest first.
    public var all: [Record] { records.withLock { $0 } }

    /// A logger that records into this recorder.
    public var logger: Logger { Logger(label: "shopfloor-test") { _ in Handler(recorder: self) } }

    private func append(_ record: Record) { records.withLock { $0.append(record) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.append(Record(level: event.level, message: event.message.description, metadata: merged.mapValues(\.description)))
        }
    }
}
