import ArgumentParser
import Foundation
import ShopfloorStorage

/// The data directory a command works on: `--data-dir`, else `SHOPFLOOR_DATA_DIR`, else `./data`.
private func dataDirectory(_ flag: String?) -> String {
    flag ?? ProcessInfo.processInfo.environment["SHOPFLOOR_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
}

/// The database's own files, which the backup copies through SQLite rather than as files.
private func isDatabaseFile(_ name: String) -> Bool { name.hasPrefix("shopfloor.sqlite") }

/// `shopfloor backup FILE`: a consistent copy of a data directory while its server serves.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a data directory's database, as of one moment, and its key files into one new file, while the server serves.")

    @Option(help: "The server's data directory (SHOPFLOOR_DATA_DIR). Default ./data.") var dataDir: String?
    @Argument(help: "The backup file to write (mode 0600); it must not exist. It holds every customer's data and the shop's keys: keep it safe.")
    var file: String

    func run() throws {
        let directory = dataDirectory(dataDir)
        let database = (directory as NSString).appendingPathComponent("shopfloor.sqlite")
        guard FileManager.default.fileExists(atPath: database) else { throw ValidationError("no database in \(directory)") }
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where !isDatabaseFile(name) {
            let path = (directory as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            files[name] = Array(data)
        }
        let seq = try DatabaseBackup.backup(database: database, to: file, files: files)
        print("backed up \(directory) to \(file): events up to seq \(seq), \(files.count) key files (\(files.keys.sorted().joined(separator: ", ")))")
    }
}

/// `shopfloor restore FILE`: a backup into an empty data directory, ready for `shopfloor serve`.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a backup into an empty data directory (made if missing).")

    @Option(help: "The data directory to fill (SHOPFLOOR_DATA_DIR). Default ./data.") var dataDir: String?
    @Argument(help: "The backup file, from `shopfloor backup`.") var file: String

    func run() throws {
        let directory = dataDirectory(dataDir)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let existing = try FileManager.default.contentsOfDirectory(atPath: directory)
        guard existing.isEmpty else { throw ValidationError("\(directory) is not empty: restore into an empty data directory") }
        let database = (directory as NSString).appendingPathComponent("shopfloor.sqlite")
        let files = try DatabaseBackup.restore(from: file, into: database)
        for (name, content) in files where !isDatabaseFile(name) && !name.contains("/") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.createFile(atPath: path, contents: Data(content), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("could not write \(path)")
            }
        }
        print("restored \(file) into \(directory): \(files.count) key files")
    }
}
