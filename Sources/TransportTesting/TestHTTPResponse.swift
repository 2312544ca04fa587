/// A response as a test client read it off the wire: status, fields in order, and the body with its
/// transfer coding removed.
public struct TestHTTPResponse: Sendable, Equatable {
    public struct Field: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }

        public var description: String { "\(name): \(value)" }
    }

    /// How the body was delimited on the wire (RFC 9112 §6.3).
    public enum Framing: Sendable, Equatable {
        /// No body by rule: a response to HEAD, 1xx, 204 or 304.
        case none
        case contentLength(Int)
        /// Chunked, with the size of every data chunk in order (the last, empty chunk not included).
        case chunked(sizes: [Int])
        /// Delimited by the server closing the connection.
        case untilClose
    }

    public var version: String
    public var status: Int
    public var reason: String
    public var fields: [Field]
    public var body: [UInt8]
    public var framing: Framing
    /// Trailer fields after a chunked body.
    public var trailers: [Field]

    /// The first value of the field `name` (case-insensitive), if present.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// Every value of the field `name` (case-insensitive), in order.
    public func headers(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// The body decoded as UTF-8.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Whether the response says the server will close the connection after it.
    public var closesConnection: Bool {
        headers("Connection").contains { value in
            value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == "close" }
        }
    }
}

extension TestHTTPResponse {
    /// Why bytes could not be read as an HTTP/1.1 response.
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "malformed response: \(reason)" }
    }

    /// Decodes one response from the front of `buffer`, removing its bytes; `nil` (and `buffer`
    /// untouched) when more bytes are needed. `isHead` tells that the request was HEAD, so the
    /// response has no body whatever its fields say; `atEndOfStream` that no more bytes will come,
    /// which completes a body delimited by close.
    public static func decode(from buffer: inout [UInt8], isHead: Bool = false, atEndOfStream: Bool = false) throws(Malformed) -> TestHTTPResponse? {
        guard let headEnd = buffer.firstRange(of: [13, 10, 13, 10])?.lowerBound else { return nil }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].count == 3, let status = Int(parts[1]) else {
            throw Malformed(reason: "status line '\(statusLine)'")
        }
        let fields = try lines.map { line throws(Malformed) in try parseField(line) }
        var response = TestHTTPResponse(
            version: parts[0], status: status, reason: parts.count > 2 ? parts[2] : "", fields: fields, body: [],
            framing: .none, trailers: [])
        var index = headEnd + 4

        let transferEncoding = response.header("Transfer-Encoding")?.lowercased()
        if isHead || (100..<200).contains(status) || status == 204 || status == 304 {
            response.framing = .none
        } else if let transferEncoding {
            guard transferEncoding == "chunked" else { throw Malformed(reason: "transfer coding '\(transferEncoding)'") }
            var sizes: [Int] = []
            while true {
                guard let lineEnd = buffer[index...].firstRange(of: [13, 10])?.lowerBound else { return nil }
                let sizeText = String(decoding: buffer[index..<lineEnd], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first.map(String.init) ?? "", radix: 16), size >= 0 else {
                    throw Malformed(reason: "chunk size '\(sizeText)'")
                }
                index = lineEnd + 2
                if size == 0 { break }
                guard buffer.count >= index + size + 2 else { return nil }
                response.body.append(contentsOf: buffer[index..<index + size])
                guard buffer[index + size] == 13, buffer[index + size + 1] == 10 else { throw Malformed(reason: "no CRLF after chunk data") }
                index += size + 2
                sizes.append(size)
            }
            while true {
                guard let lineEnd = buffer[index...].firstRange(of: [13, 10])?.lowerBound else { return nil }
                let line = String(decoding: buffer[index..<lineEnd], as: UTF8.self)
                index = lineEnd + 2
                if line.isEmpty { break }
                response.trailers.append(try parseField(line))
            }
            response.framing = .chunked(sizes: sizes)
        } else if let lengthText = response.header("Content-Length") {
            guard let length = Int(lengthText), length >= 0 else { throw Malformed(reason: "Content-Length '\(lengthText)'") }
            guard buffer.count >= index + length else { return nil }
            response.body = Array(buffer[index..<index + length])
            index += length
            response.framing = .contentLength(length)
        } else {
            guard atEndOfStream else { return nil }
            response.body = Array(buffer[index...])
            index = buffer.count
            response.framing = .untilClose
        }
        buffer.removeFirst(index)
        return response
    }

    private static func parseField(_ line: String) throws(Malformed) -> Field {
        guard let colon = line.firstIndex(of: ":"), colon > line.startIndex else { throw Malformed(reason: "field line '\(line)'") }
        let name = String(line[..<colon])
        guard !name.contains(" ") else { throw Malformed(reason: "space in field name '\(name)'") }
        return Field(name: name, value: line[line.index(after: colon)...].trimmingSpaces())
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view = view.dropFirst() }
        while view.last == " " || view.last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
