import Foundation
import ShopfloorTransport

/// One HTTP/1.1 exchange over a ``ClientConnection``, for tests that talk to a helper service before
/// the real HTTP client exists: the request with `Content-Length` and `Connection: close`, then the
/// status line, the header fields and a body read as one line, which is what `push_service.py` sends
/// (a JSON document and a line feed). Blocking: call it on a thread of its own (``onThread(_:)``).
enum BlockingHTTP {
    struct Response: Sendable {
        let status: Int
        let headers: [(name: String, value: String)]
        let body: String

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    static let timeout: Duration = .seconds(10)

    static func exchange(
        host: String, port: Int, method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) throws -> Response {
        let connection = try ClientConnection.connect(host: host, port: port, timeout: timeout)
        defer { connection.close() }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try connection.write(Array(head.utf8) + body, timeout: timeout)

        let statusLine = String(decoding: try connection.readLine(maxLength: 1024, timeout: timeout), as: UTF8.self)
        let statusParts = statusLine.split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw TestSetupFailure(description: "bad status line \(statusLine.debugDescription)")
        }
        var fields: [(name: String, value: String)] = []
        while case let line = try connection.readLine(maxLength: 8192, timeout: timeout), !line.isEmpty {
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { throw TestSetupFailure(description: "bad field \(text.debugDescription)") }
            fields.append((String(text[..<colon]), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = fields.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        var text = ""
        if length > 0 {
            let line = try connection.readLine(maxLength: 1 << 22, timeout: timeout)
            guard line.count + 1 == length else { throw TestSetupFailure(description: "body is not one line of \(length) bytes") }
            text = String(decoding: line, as: UTF8.self)
        }
        return Response(status: status, headers: fields, body: text)
    }
}
