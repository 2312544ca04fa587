import Foundation
public import Logging
import Synchronization

/// `--log-format json`: one JSON object per line on standard error, for log shippers. Each line has
/// `time` (RFC 3339, UTC, milliseconds), `level`, `label`, `message`, and the metadata as members
/// (keys sorted, values as text):
/// `request_id` (and `key`) on every line written while a request is handled (``RequestLogMetadata``).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    /// One lock for every handler, so lines from several threads never interleave.
    private static let output = Mutex(())

    public init(label: String, metadataProvider: Logger.MetadataProvider?) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String,
                    function: String, line: UInt) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra { all.merge(extra) { _, new in new } }
        var object: [String: String] = [:]
        for (key, value) in all { object[key] = "\(value)" }
        object["time"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        object["level"] = level.rawValue
        object["label"] = label
        object["message"] = "\(message)"
        guard var bytes = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]).map({ $0 })
        else { return }
        bytes.append(UInt8(ascii: "\n"))
        Self.output.withLock { _ in FileHandle.standardError.write(Data(bytes)) }
    }
}
