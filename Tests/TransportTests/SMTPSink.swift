#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A temporary directory for one test's certificates and mail, removed when released.
final class TestDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A self-signed certificate and key for `name` (a DNS name; `localhost` also gets 127.0.0.1),
    /// made with the `openssl` command; returns the two paths. An `expired` one stopped being valid a
    /// day before it was made.
    func makeCertificate(for name: String, expired: Bool = false) throws -> (certificate: String, key: String) {
        let stem = url.appendingPathComponent(expired ? "\(name)-expired" : name).path
        let certificate = stem + ".crt"
        let key = stem + ".key"
        let alternativeNames = name == "localhost" ? "DNS:localhost,IP:127.0.0.1" : "DNS:\(name)"
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-subj", "/CN=\(name)"]
        guard expired else {
            try SMTPSink.run("/usr/bin/env", ["openssl", "req", "-x509"] + newKey + [
                "-out", certificate, "-days", "1", "-addext", "subjectAltName=\(alternativeNames)",
            ])
            return (certificate, key)
        }
        // OpenSSL 3.0's `req` cannot set past dates (`-not_after` came in 3.4); `x509 -days -1` signs a
        // certificate whose validity ends a day before it starts, which verification calls expired.
        let extensions = stem + ".ext"
        try Data("subjectAltName=\(alternativeNames)\n".utf8).write(to: URL(fileURLWithPath: extensions))
        try SMTPSink.run("/usr/bin/env", ["openssl", "req", "-new"] + newKey + ["-out", stem + ".csr"])
        try SMTPSink.run("/usr/bin/env", [
            "openssl", "x509", "-req", "-in", stem + ".csr", "-signkey", key, "-days", "-1", "-extfile", extensions, "-out", certificate,
        ])
        return (certificate, key)
    }
}

/// `Tests/support/smtp_sink.py` (aiosmtpd) as a subprocess on a loopback port, writing the messages
/// it accepts in a folder of its own under a ``TestDirectory``.
///
/// Starting it blocks (Python starts, then prints `PORT n`), so tests start it on a thread of their
/// own (``onThread(_:)``). ``stop()`` kills the process and waits for it; `deinit` does the same, so a
/// test that fails half-way leaves nothing running. Immutable once started, hence `Sendable`.
final class SMTPSink: Sendable {
    /// A message the sink accepted: the bytes as received and what the JSON beside them says.
    struct Message: Sendable {
        let content: String
        let mailFrom: String
        let recipients: [String]
        let mailOptions: [String]
        let connection: Int
        let overTLS: Bool
        let user: String?
    }

    /// The package's root, three levels above this file (`Tests/TransportTests/SMTPSink.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A Python that can import aiosmtpd: `$SHOPFLOOR_TEST_PYTHON`, else `.build/venv/bin/python` (which
    /// `make test` installs from Tests/blackbox/requirements.txt), else none and the tests are skipped.
    static let python: String? = {
        let candidates: [String?] = [
            ProcessInfo.processInfo.environment["SHOPFLOOR_TEST_PYTHON"],
            packageRoot.appendingPathComponent(".build/venv/bin/python").path,
        ]
        return candidates.compactMap { $0 }.first { (path: String) -> Bool in
            guard FileManager.default.isExecutableFile(atPath: path) else { return false }
            return (try? SMTPSink.run(path, ["-c", "import aiosmtpd"])) != nil
        }
    }()

    static let skipReason: Comment = "needs a Python with aiosmtpd: set SHOPFLOOR_TEST_PYTHON, or run `make venv` for .build/venv"

    let port: Int
    let maildir: URL
    private let process: ChildProcess

    /// Starts the sink with `arguments` (besides `--port` and `--maildir`) and waits for its port.
    /// `port` 0 lets the system pick one; a restart passes the port the sink had, and the same directory.
    init(_ arguments: [String], in directory: TestDirectory, port requested: Int = 0) throws {
        guard let python = Self.python else { throw TestSetupFailure(description: "no Python with aiosmtpd") }
        maildir = directory.url.appendingPathComponent("mail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: maildir, withIntermediateDirectories: true)
        let log = directory.url.appendingPathComponent("sink-\(UUID().uuidString).log")
        let process = try ChildProcess(python, [Self.packageRoot.appendingPathComponent("Tests/support/smtp_sink.py").path,
                                                "--port", String(requested), "--maildir", maildir.path] + arguments, errorPath: log.path)
        guard let text = process.firstLine() else { throw process.failure("smtp_sink.py did not print its port", errorPath: log.path) }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            throw process.failure("smtp_sink.py printed \(text.debugDescription)", errorPath: log.path)
        }
        self.port = port
        self.process = process
    }

    deinit { stop() }

    /// Kills the sink, and with it every connection it holds, and waits for it to exit.
    func stop() {
        // SIGKILL: no clean shutdown to wait for, and the connections it holds drop at once.
        process.kill()
        process.wait()
    }

    /// The messages accepted so far, in order. The sink writes them before it answers the end of the
    /// data, so a message the client saw accepted is here.
    func messages() throws -> [Message] {
        var messages: [Message] = []
        for number in 1... {
            let base = maildir.appendingPathComponent(String(number))
            guard FileManager.default.fileExists(atPath: base.appendingPathExtension("eml").path) else { return messages }
            let content = try String(contentsOf: base.appendingPathExtension("eml"), encoding: .utf8)
            let data = try Data(contentsOf: base.appendingPathExtension("json"))
            guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TestSetupFailure(description: "\(number).json is not an object")
            }
            messages.append(Message(
                content: content, mailFrom: json["mail_from"] as? String ?? "", recipients: json["rcpt_tos"] as? [String] ?? [],
                mailOptions: json["mail_options"] as? [String] ?? [], connection: json["connection"] as? Int ?? 0,
                overTLS: json["tls"] as? Bool ?? false, user: json["user"] as? String))
        }
        return messages
    }

    /// Runs a command to its end; throws with its output when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = try ChildProcess(executable, arguments)
        let text = String(decoding: process.readAll(), as: UTF8.self)
        guard process.wait() == 0 else { throw TestSetupFailure(description: "\(executable) \(arguments) failed: \(text)") }
        return text
    }
}
