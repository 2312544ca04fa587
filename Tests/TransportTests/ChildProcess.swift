#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A helper process for tests (openssl, the Python SMTP sink and push service), started with
/// `posix_spawn` rather than Foundation's `Process`, whose `run()` crashed twice in full test runs
/// (a bad pointer in a memcpy inside it, with launches already taken one at a time). Its standard
/// output is a pipe the test reads; standard error goes to a file or along with standard output. The
/// child starts with no signal blocked, whatever the spawning thread blocks, so SIGKILL and SIGTERM
/// reach it.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The read end of the child's standard output.
    let output: Int32
    private let exitStatus = Mutex<Int32?>(nil)

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `executable` (a path) with `arguments`; standard error to `errorPath`, or to the output pipe.
    init(_ executable: String, _ arguments: [String], errorPath: String? = nil) throws {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw Failure(description: "pipe failed: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        }
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        close(pipeEnds[1])
        guard status == 0 else {
            close(pipeEnds[0])
            throw Failure(description: "posix_spawn \(executable) failed: \(status)")
        }
        pid = child
        output = pipeEnds[0]
    }

    deinit {
        close(output)
    }

    func kill(_ signal: Int32 = SIGKILL) {
        if exitStatus.withLock({ $0 }) == nil { _ = Glibc.kill(pid, signal) }
    }

    /// Waits for the child to end; its exit status (or 128 + the signal that ended it).
    @discardableResult
    func wait() -> Int32 {
        exitStatus.withLock { stored in
            if let stored { return stored }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
            let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            stored = code
            return code
        }
    }

    /// The first line the child writes (a helper announcing its port), without its line feed; `nil`
    /// when it ends or stays silent for 20 seconds first.
    func firstLine() -> String? {
        var line: [UInt8] = []
        while line.last != UInt8(ascii: "\n") {
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            var byte: UInt8 = 0
            guard poll(&descriptor, 1, 20_000) == 1, read(output, &byte, 1) == 1 else { return nil }
            line.append(byte)
        }
        return String(decoding: line.dropLast(), as: UTF8.self)
    }

    /// Kills the child and says why it would not do, with what it wrote to `errorPath`.
    func failure(_ reason: String, errorPath: String) -> TestSetupFailure {
        kill()
        wait()
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        return TestSetupFailure(description: "\(reason): \(errors)")
    }

    /// Everything the child writes to its output until it closes it.
    func readAll() -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += chunk[0..<count]
            } else if count == 0 || errno != EINTR {
                return bytes
            }
        }
    }
}
