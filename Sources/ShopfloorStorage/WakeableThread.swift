import Foundation

/// A thread of its own that sleeps until woken and then runs one pass of its work: the shape of the
/// writer, the WAL flusher and the checkpointer, which each keep their queue under their own lock.
///
/// Wake-ups are counted (a semaphore), so one made while a pass runs is not lost: the thread makes
/// another pass. A pass that returns `false` ends the thread, and ``join()`` waits for that. The
/// thread starts apart from `init`, so an owner can hand it a pass that uses the owner itself.
final class WakeableThread: Sendable {
    private let name: String
    private let wakeUps = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// `name` is for `top -H` and perf (the kernel keeps 15 bytes).
    init(name: String) {
        self.name = name
    }

    /// Starts the thread; it runs `pass` after each wake-up until `pass` returns `false`.
    func start(_ pass: @escaping @Sendable () -> Bool) {
        let thread = Thread { [name, wakeUps, finished] in
            // Named on the thread itself, where Foundation passes it to the kernel.
            Thread.current.name = name
            repeat { wakeUps.wait() } while pass()
            finished.signal()
        }
        thread.start()
    }

    /// Asks for a pass.
    func wake() {
        wakeUps.signal()
    }

    /// Blocks until a pass has returned `false` and the thread has ended.
    func join() {
        finished.wait()
    }
}
