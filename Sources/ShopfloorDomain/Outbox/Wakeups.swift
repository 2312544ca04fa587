/// The pace of a background loop: a pass at once, after each wake-up (a commit or an event of
/// interest), and every `tick` when it has one. Wake-ups that come while a pass runs make one more
/// pass, not one each (at most one waits).
final class Wakeups: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a pass; any thread, never blocks.
    func wake() {
        continuation.yield()
    }

    /// Ends ``run(tick:_:)`` after the pass under way.
    func finish() {
        continuation.finish()
    }

    /// Runs `pass` at once and after each batch of events the log publishes while `isActive` (a flag
    /// read on the flusher thread for every event, so it must be cheap), until cancelled.
    func run(following events: EventLog, whenever isActive: @escaping @Sendable () -> Bool,
             _ pass: @escaping @Sendable () async -> Void) async {
        let token = events.subscribe { [self] _ in
            if isActive() { wake() }
        }
        defer { events.unsubscribe(token) }
        await run(tick: nil, pass)
    }

    /// Runs `pass` until cancelled or finished; call it once.
    func run(tick: Duration?, _ pass: @escaping @Sendable () async -> Void) async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                if let tick {
                    group.addTask { [self] in
                        while !Task.isCancelled {
                            try? await Task.sleep(for: tick)
                            wake()
                        }
                    }
                }
                wake()
                for await _ in stream {
                    if Task.isCancelled { break }
                    await pass()
                }
                group.cancelAll()
            }
        } onCancel: {
            finish()
        }
    }
}
