import Foundation

/// A key the server makes on its first start and keeps in its data directory, readable by its user
/// only (0600): the sealing key of webhook secrets, the VAPID key of Web Push. Losing it loses what
/// it protects (webhook secrets must be rotated, push subscriptions made again), so it is made once
/// and never replaced.
enum KeyFile {
    enum Failure: Error, CustomStringConvertible {
        case unreadable(String)
        case unwritable(String)

        var description: String {
            switch self {
            case .unreadable(let path): "cannot read the key file \(path)"
            case .unwritable(let path): "cannot write the key file \(path)"
            }
        }
    }

    /// The bytes in `path`, after writing `make()` there if it did not exist.
    static func loadOrCreate(_ path: String, make: () throws -> [UInt8]) throws -> [UInt8] {
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path) }
            return Array(data)
        }
        let bytes = try make()
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw Failure.unwritable(path)
        }
        return bytes
    }
}
