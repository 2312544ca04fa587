import Foundation

/// A test's own setup failed (a helper process, a probe socket), as opposed to the code under test.
struct TestSetupFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` on a new thread, so blocking network calls never hold a thread of the cooperative pool
/// (on which other tests' servers run).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
        let thread = Thread { continuation.resume(returning: Result { try body() }) }
        thread.name = "TransportTests"
        thread.start()
    }
    return try result.get()
}
