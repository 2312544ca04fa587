import Foundation
import HTTPTypes
import ShopfloorAPI
import ShopfloorDomain
import ShopfloorTransport
import Testing

/// The decoded body of a problem+json response.
struct ProblemBody: Decodable, Equatable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var code: String
    var errors: [Entry]?

    struct Entry: Decodable, Equatable {
        var field: String
        var detail: String
    }

    init(_ bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(ProblemBody.self, from: Data(bytes))
    }
}

private func body(of response: HTTPServerResponse) -> [UInt8] {
    if case .bytes(let bytes) = response.body { return bytes }
    Issue.record("problem response is streamed")
    return []
}

/// RFC 9110 §15 reason phrases of the statuses parse errors map to.
private let titles = [
    400: "Bad Request", 413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large",
    501: "Not Implemented", 505: "HTTP Version Not Supported", 417: "Expectation Failed",
]

@Suite struct ProblemTests {
    @Test(arguments: [
        (HTTPParseError.requestLineTooLong(limit: 8192), 414, "invalid_request"),
        (.headersTooLarge(limit: 65536), 431, "invalid_request"),
        (.tooManyHeaders(limit: 100), 431, "invalid_request"),
        (.bodyTooLarge(limit: 1_048_576), 413, "payload_too_large"),
        (.malformedRequestLine, 400, "invalid_request"),
        (.malformedHeader, 400, "invalid_request"),
        (.invalidHost, 400, "invalid_request"),
        (.invalidContentLength, 400, "invalid_request"),
        (.conflictingFraming, 400, "invalid_request"),
        (.unsupportedTransferEncoding, 501, "invalid_request"),
        (.invalidChunk, 400, "invalid_request"),
        (.unsupportedVersion, 505, "invalid_request"),
        (.unsupportedExpectation, 417, "invalid_request"),
    ])
    func parseErrorMapsToItsStatusAndCode(_ error: HTTPParseError, _ status: Int, _ code: String) throws {
        let problem = Problem(HTTPTransportError.parse(error))
        #expect(problem.status == status)
        #expect(problem.code == code)
        let response = problem.response()
        #expect(response.status.code == status)
        #expect(response.headerFields[.contentType] == "application/problem+json")
        let decoded = try ProblemBody(body(of: response))
        #expect(decoded.status == status)
        #expect(decoded.code == code)
        #expect(decoded.type == "about:blank")
        #expect(decoded.title == titles[status])
        #expect(!decoded.detail.isEmpty)
    }

    @Test func limitAppearsInTheDetail() {
        #expect(Problem(HTTPTransportError.parse(.bodyTooLarge(limit: 1024))).detail == "The body is larger than 1024 bytes.")
        #expect(Problem(HTTPTransportError.parse(.requestLineTooLong(limit: 8192))).detail == "The request line is longer than 8192 bytes.")
    }

    @Test func transportErrorsMapToTheirStatus() {
        let busy = Problem(HTTPTransportError.tooManyConnections)
        #expect(busy.status == 503)
        #expect(busy.code == "unavailable")
        #expect(busy.response().headerFields[.retryAfter] == "1")
        let slow = Problem(HTTPTransportError.requestTimeout)
        #expect(slow.status == 408)
        #expect(slow.code == "invalid_request")
    }

    @Test func methodNotAllowedCarriesAllow() throws {
        let response = Problem(APIError.methodNotAllowed(allowed: [.get, .head, .post])).response()
        #expect(response.status.code == 405)
        #expect(response.headerFields[.allow] == "GET, HEAD, POST")
        let decoded = try ProblemBody(body(of: response))
        #expect(decoded.status == 405)
        #expect(decoded.title == "Method Not Allowed")
        #expect(decoded.detail == "Allowed methods: GET, HEAD, POST.")
    }

    @Test func apiErrorsMapToTheirStatusAndCode() throws {
        let notFound = Problem(APIError.notFound(path: "/v1/nothing"))
        #expect((notFound.status, notFound.code, notFound.detail) == (404, "not_found", "No resource at /v1/nothing."))
        let invalid = Problem(APIError.invalidRequest(detail: "limit must be 1 to 200"))
        #expect((invalid.status, invalid.code, invalid.detail) == (400, "invalid_request", "limit must be 1 to 200"))
        let unavailable = Problem(APIError.unavailable(detail: "draining"))
        #expect((unavailable.status, unavailable.code) == (503, "unavailable"))
        #expect(unavailable.response().headerFields[.retryAfter] == "1")

        let failed = Problem(APIError.validationFailed([FieldError(field: "sku", detail: "must not be empty")]))
        #expect((failed.status, failed.code) == (422, "invalid_request"))
        let decoded = try ProblemBody(body(of: failed.response()))
        #expect(decoded.errors == [ProblemBody.Entry(field: "sku", detail: "must not be empty")])
    }

    @Test func problemPassesThroughUnchanged() {
        let original = Problem(APIError.notFound(path: "/x"))
        let wrapped = Problem(original as any Error)
        #expect(wrapped.status == 404)
        #expect(wrapped.detail == original.detail)
    }

    @Test func unknownErrorIsAnOpaque500() throws {
        struct DatabaseExploded: Error, CustomStringConvertible {
            var description: String { "secret: /var/lib/shopfloor/shopfloor.sqlite is corrupt" }
        }
        let problem = Problem(DatabaseExploded())
        #expect(problem.status == 500)
        #expect(problem.code == "internal_error")
        let bytes = body(of: problem.response())
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("secret"))
        #expect(!text.contains("sqlite"))
        #expect(!text.contains("DatabaseExploded"))
        let decoded = try ProblemBody(bytes)
        #expect(decoded.status == 500)
        #expect(decoded.title == "Internal Server Error")
        #expect(decoded.detail == "An unexpected error occurred.")
        #expect(decoded.errors == nil)
    }
}
