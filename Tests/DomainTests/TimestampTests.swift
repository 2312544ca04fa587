import Foundation
import Testing
@testable import ShopfloorDomain

struct TimestampTests {
    /// The hand-written formatter agrees with Foundation's ISO 8601 style across leap years, century
    /// rules and the ends of days and months.
    @Test func formatsAsFoundationDoes() {
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, 59, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_399, 1_764_622_051.999]
        let random = (0..<5_000).map { _ in TimeInterval(Int64.random(in: 0...253_402_300_799, using: &generator)) }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Timestamp.string(date) == date.formatted(.iso8601), "at \(seconds)")
        }
    }

    @Test func parsesEveryRFC3339Form() {
        let instant = Date(timeIntervalSince1970: 1_764_622_051)
        for text in ["2025-12-01T20:47:31Z", "2025-12-01t20:47:31z", "2025-12-01T21:47:31+01:00", "2025-12-01T15:17:31-05:30",
                     "2025-12-01T20:47:31.000Z"] {
            #expect(Timestamp.date(text) == instant, "\(text)")
        }
        #expect(Timestamp.date("2025-12-01T20:47:31.25Z") == instant.addingTimeInterval(0.25))
        #expect(Timestamp.date("0455-02-03T22:10:43.0+20:11").map(Timestamp.string) == "0455-02-03T01:59:43Z")
        for text in ["", "2025-12-01", "2025-12-01T20:47:31", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2025-12-01T24:00:00Z",
                     "2025-12-01T20:47:31.Z", "2025-12-01T20:47:31+0100", "2025-12-01 20:47:31Z", "2025-12-01T20:47:31Zjunk", "tomorrow"] {
            #expect(Timestamp.date(text) == nil, "\(text)")
        }
        #expect(Timestamp.date("2024-02-29T00:00:00Z") != nil)
    }

    @Test func roundTrips() {
        let text = "2028-02-29T23:59:59Z"
        #expect(Timestamp.date(text).map(Timestamp.string) == text)
    }
}
