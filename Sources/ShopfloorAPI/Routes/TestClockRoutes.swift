import Foundation
import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// The test clock (API.md, Automation), served only with `--enable-test-clock`: `GET` tells the
/// time, `POST {"advance":"2h"}` moves it on. Like the echo endpoints it needs no key: the flag is
/// for test servers alone, where any client may move time. The offset is kept in the data directory, so a restarted
/// server resumes where the test left time.
///
/// Registered on every server so other methods on the path get 405 as elsewhere; without the flag
/// (`clock` nil) `GET` and `POST` answer 404, as if the route did not exist.
struct TestClockRoutes {
    let clock: OffsetClock?
    /// Where the offset is kept, in whole milliseconds as text.
    let offsetFile: String

    func register(on router: inout Router) {
        router.on(.get, "/v1/test/clock") { _, _ in
            let clock = try Self.enabled(clock)
            return try JSON.response(ClockDTO(now: Timestamp.string(clock.now())))
        }
        router.on(.post, "/v1/test/clock") { request, _ in
            let clock = try Self.enabled(clock)
            let body = try request.decode(AdvanceDTO.self)
            guard let duration = Configuration.parseDuration(body.advance), duration > .zero, duration <= .seconds(10 * 365 * 86_400) else {
                throw ValidationError(field: "advance", detail: "must be a duration such as 90s, 15m, 2h or 7d, at most ten years")
            }
            let offset = clock.advance(by: duration)
            try Self.save(offset, to: offsetFile)
            return try JSON.response(ClockDTO(now: Timestamp.string(clock.now())))
        }
    }

    private static func enabled(_ clock: OffsetClock?) throws -> OffsetClock {
        guard let clock else { throw APIError.notFound(path: "/v1/test/clock") }
        return clock
    }

    /// The offset a previous run left, or zero.
    static func load(from path: String) -> Duration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let milliseconds = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)), milliseconds >= 0 else { return .zero }
        return .milliseconds(milliseconds)
    }

    private static func save(_ offset: Duration, to path: String) throws {
        let milliseconds = offset.components.seconds * 1000 + offset.components.attoseconds / 1_000_000_000_000_000
        try Data("\(milliseconds)\n".utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

private struct AdvanceDTO: Decodable {
    var advance: String
}

private struct ClockDTO: Encodable {
    var now: String
}
