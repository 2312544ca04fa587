#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Synchronization

/// Something registered with an ``EventLoop`` for readiness events on one file descriptor.
///
/// Implementations are owned by their loop and touched only on its thread.
protocol EventLoopHandler: AnyObject {
    /// The descriptor's readiness, as an epoll event mask.
    func handle(events: UInt32)
    /// Called about four times a second with the loop's clock in milliseconds, to enforce deadlines.
    func tick(now: UInt64)
    /// Closes at once (server stop); the handler deregisters itself.
    func forceClose()
    /// Server drain: finish what is in flight, take nothing new, then close.
    func drain()
}

/// One thread, one epoll instance, and every connection accepted on it.
///
/// The loop owns its handlers: they are created, driven and closed on its thread only. Other threads
/// reach the loop through ``execute(_:)``, which queues a closure under a lock and wakes `epoll_wait`
/// through an eventfd. See docs/ARCHITECTURE.md for the threading model.
///
/// `@unchecked Sendable`: `handlers`, `now`, `stopRequested`, `lastTick` and `deflaters` are touched only on the loop thread
/// (asserted by `assertInLoop()`); `queue` is guarded by its mutex; `wakeFD` and `epoll` never change.
public final class EventLoop: @unchecked Sendable {
    let epoll: Epoll
    private let wakeFD: Int32
    private let queue = Mutex<[@Sendable () -> Void]>([])
    private let wakePending = Atomic<Bool>(false)
    private var handlers: [(any EventLoopHandler)?] = []
    private var joinHandle: pthread_t?
    private var loopThread: pthread_t?
    private var stopRequested = false
    private let tickInterval: UInt64 = 250
    private var lastTick: UInt64 = 0
    /// Milliseconds on the monotonic clock, refreshed on every wake-up.
    private(set) var now: UInt64 = EventLoop.monotonicMilliseconds()
    /// Scratch space for socket reads, shared by the loop's connections since only one reads at a time.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Deflate streams by window size for WebSocket messages compressed on this loop, reset after each
    /// message; one set per loop instead of one per connection.
    var deflaters: [Int32: Deflater] = [:]

    init() throws(SystemError) {
        epoll = try Epoll()
        wakeFD = try syscallChecked("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
        try epoll.add(wakeFD, events: Epoll.readable)
    }

    deinit {
        close(wakeFD)
        readBuffer.deallocate()
    }

    static func monotonicMilliseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    /// Runs `task` on the loop thread soon. Safe from any thread; the only way in from outside.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        queue.withLock { $0.append(task) }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    var inLoop: Bool { loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }

    func assertInLoop() {
        assert(inLoop, "called off its event loop thread")
    }

    func register(_ handler: any EventLoopHandler, fd: Int32, events: UInt32) throws(SystemError) {
        assertInLoop()
        try epoll.add(fd, events: events)
        let slot = Int(fd)
        if slot >= handlers.count {
            handlers.append(contentsOf: repeatElement(nil, count: max(slot + 1 - handlers.count, handlers.count)))
        }
        handlers[slot] = handler
    }

    /// Hands a registered descriptor to another handler (a connection that changed protocol).
    func replace(fd: Int32, with handler: any EventLoopHandler) {
        assertInLoop()
        handlers[Int(fd)] = handler
    }

    func setInterest(fd: Int32, events: UInt32) {
        assertInLoop()
        try? epoll.modify(fd, events: events)
    }

    func deregister(fd: Int32) {
        assertInLoop()
        epoll.remove(fd)
        handlers[Int(fd)] = nil
    }

    func handler(fd: Int32) -> (any EventLoopHandler)? {
        assertInLoop()
        let slot = Int(fd)
        return slot < handlers.count ? handlers[slot] : nil
    }

    /// Every handler now registered, for draining and stopping.
    func allHandlers() -> [any EventLoopHandler] {
        handlers.compactMap { $0 }
    }

    /// Starts the loop on its own thread.
    func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let loop = Unmanaged<EventLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.run()
            return nil
        }, box.toOpaque())
        precondition(status == 0, "pthread_create failed: \(status)")
        joinHandle = thread
    }

    /// Asks the loop to close every handler and end its thread, then waits for the thread.
    func stopAndJoin() {
        execute { [self] in
            for handler in allHandlers() { handler.forceClose() }
            stopRequested = true
        }
        if let joinHandle { pthread_join(joinHandle, nil) }
    }

    private func run() {
        loopThread = pthread_self()
        shopfloor_name_thread("sf-event-loop")
        let capacity = 256
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while !stopRequested {
            let count = epoll.wait(into: events, timeout: Int32(tickInterval))
            now = EventLoop.monotonicMilliseconds()
            for event in events.prefix(count) {
                let fd = event.data.fd
                if fd == wakeFD {
                    drainWakeFD()
                } else if let handler = handler(fd: fd) {
                    handler.handle(events: event.events)
                }
            }
            runQueuedTasks()
            if now &- lastTick >= tickInterval {
                lastTick = now
                for handler in allHandlers() { handler.tick(now: now) }
            }
        }
    }

    private func drainWakeFD() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    private func runQueuedTasks() {
        wakePending.store(false, ordering: .releasing)
        let tasks = queue.withLock { tasks in
            defer { tasks.removeAll(keepingCapacity: true) }
            return tasks
        }
        for task in tasks { task() }
    }
}
