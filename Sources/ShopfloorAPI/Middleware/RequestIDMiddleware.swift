import HTTPTypes
import Logging
import ShopfloorCrypto
import ShopfloorTransport
import Synchronization

/// Gives every request an id, taken from the client's `X-Request-Id` when it is short and plain,
/// otherwise random; puts it in the log lines (``RequestLogMetadata``) and on the response.
struct RequestIDMiddleware: Middleware {
    static let field = HTTPField.Name("X-Request-Id")!
    private static let prefix = SecureRandom.hex(6)
    private static let counter = Atomic<UInt64>(0)

    /// A new id: a random per-process prefix and a counter, unique without a syscall per request.
    static func make() -> String {
        "\(prefix)-\(counter.add(1, ordering: .relaxed).newValue)"
    }

    func handle(_ request: HTTPServerRequest, context: RequestContext, next: RequestHandler) async throws -> HTTPServerResponse {
        var context = context
        let id = Self.id(for: request)
        context.requestID = id
        var response = try await RequestLogMetadata.$current.withValue(RequestLogMetadata(requestID: id)) {
            try await next(request, context)
        }
        response.headerFields[Self.field] = id
        return response
    }

    /// The client's id if it is acceptable, else a new one. Out of line to keep `handle`'s frame small
    /// (``Middleware``).
    @inline(never)
    private static func id(for request: HTTPServerRequest) -> String {
        request.head.headerFields.value(of: field).flatMap(acceptable) ?? make()
    }

    /// 1 to 128 characters of letters, digits, `-`, `_`, `.` and `:`: safe in logs and headers.
    static func acceptable(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"): true
            default: false
            }
        }
        return allowed ? value : nil
    }
}
