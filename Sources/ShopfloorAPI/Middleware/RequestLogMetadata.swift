public import Logging

/// What a request adds to each log line written while it is handled: its id and, once authenticated,
/// its key.
///
/// Why a task-local read by a metadata provider, not logger metadata set per request: swift-log's
/// `StreamLogHandler` renders its metadata anew on every change, so setting it cost every request
/// allocations whether or not a line was ever logged. The provider runs only when a line is written.
/// Install ``provider`` with the logging system (the `shopfloor` executable does).
public struct RequestLogMetadata: Sendable {
    var requestID: String
    var keyID: String?

    @TaskLocal static var current: RequestLogMetadata?

    /// Adds the current request's `request_id` and `key` to a line.
    public static let provider = Logger.MetadataProvider {
        guard let current else { return [:] }
        var metadata: Logger.Metadata = ["request_id": "\(current.requestID)"]
        if let key = current.keyID { metadata["key"] = "\(key)" }
        return metadata
    }
}
