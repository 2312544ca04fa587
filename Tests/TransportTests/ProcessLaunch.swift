import Foundation
import Synchronization

/// Starts test helper processes (openssl, the Python SMTP sink and push service) one at a time.
///
/// Foundation's `Process.run()` on Linux crashed once in a full test run (a bad pointer in its memcpy,
/// while several tests made certificates at once); launches are short, so taking them in turn costs
/// nothing that matters and leaves the race no room.
enum ProcessLaunch {
    private static let lock = Mutex(())

    static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
