import HTTPTypes

/// Serialises responses for HTTP/1.1 (RFC 9112 §4, §6) and decides compression and persistence.
///
/// Runs off the event loop, in the task that produced the response, so the loops only copy bytes.
struct HTTPResponseEncoder {
    /// What the encoder needs to know of the request being answered.
    struct Context {
        var isHead: Bool
        var keepAlive: Bool
        var acceptsGzip: Bool
        var isHTTP10 = false

        init(request: HTTPServerRequest) {
            isHead = request.head.method == .head
            keepAlive = request.keepAlive
            isHTTP10 = request.isHTTP10
            acceptsGzip = request.head.headerFields[.acceptEncoding].map(Self.allowsGzip) ?? false
        }

        init(isHead: Bool = false, keepAlive: Bool, acceptsGzip: Bool = false) {
            self.isHead = isHead
            self.keepAlive = keepAlive
            self.acceptsGzip = acceptsGzip
        }

        /// Whether an `Accept-Encoding` value admits gzip: `gzip` or `*` with a non-zero weight
        /// (RFC 9110 §12.5.3).
        static func allowsGzip(_ value: String) -> Bool {
            var gzip: Bool?
            var wildcard: Bool?
            for element in value.split(separator: ",") {
                let parts = element.split(separator: ";")
                guard let coding = parts.first?.trimmingCharacters(in: " \t").lowercased() else { continue }
                var accepted = true
                for parameter in parts.dropFirst() {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    if pair.count == 2, pair[0].trimmingCharacters(in: " \t").lowercased() == "q" {
                        accepted = (Double(pair[1].trimmingCharacters(in: " \t")) ?? 0) > 0
                    }
                }
                if coding == "gzip" || coding == "x-gzip" { gzip = accepted }
                if coding == "*" { wildcard = accepted }
            }
            return gzip ?? wildcard ?? false
        }
    }

    /// Bodies at most this long are sent as they are: compressing them saves little and costs CPU.
    static let compressionThreshold = 1024
    static let serverName = "shopfloor"

    /// The response head, and the body to send after it (empty for HEAD and bodiless statuses). A `nil`
    /// body is streamed: chunked for HTTP/1.1, and for HTTP/1.0, which has no chunked coding, delimited
    /// by closing the connection (RFC 9112 §6.1, §6.3), so `closing` must then be true.
    static func encode(_ response: HTTPServerResponse, body: [UInt8]?, context: Context, closing: Bool) -> [UInt8] {
        var fields = response.headerFields
        var body = body
        let code = response.status.code
        let bodiless = code < 200 || code == 204 || code == 304
        if let bytes = body, !bodiless, bytes.count > compressionThreshold, fields[.contentEncoding] == nil,
           isCompressible(fields[.contentType]) {
            // Whether or not this client takes gzip, the answer depends on Accept-Encoding: a cache
            // must know that from either kind of answer.
            fields.append(HTTPField(name: .vary, value: "Accept-Encoding"))
            if context.acceptsGzip, let compressed = try? Deflater.gzip(bytes), compressed.count < bytes.count {
                body = compressed
                fields[.contentEncoding] = "gzip"
            }
        }
        // Written piece by piece: an interpolated line is a String allocated only to be copied here.
        var out: [UInt8] = []
        out.reserveCapacity(192 + (context.isHead ? 0 : body?.count ?? 0))
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(code, to: &out)
        out.append(.space)
        out.append(contentsOf: response.status.reasonPhrase.utf8)
        out.append(contentsOf: "\r\n".utf8)
        for field in fields {
            out.append(contentsOf: field.name.rawName.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Date: ".utf8)
        out.append(contentsOf: HTTPDate.now.utf8)
        out.append(contentsOf: "\r\nServer: ".utf8)
        out.append(contentsOf: serverName.utf8)
        out.append(contentsOf: "\r\n".utf8)
        if !bodiless {
            if let body {
                out.append(contentsOf: "Content-Length: ".utf8)
                appendDecimal(body.count, to: &out)
                out.append(contentsOf: "\r\n".utf8)
            } else if !context.isHTTP10 {
                out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
            }
        }
        if closing {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if context.isHTTP10 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if let body, !context.isHead, !bodiless {
            out.append(contentsOf: body)
        }
        return out
    }

    /// Frames one chunk of a streamed body (RFC 9112 §7.1); an empty chunk ends the body.
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(String(bytes.count, radix: 16).utf8)
        out.reserveCapacity(out.count + bytes.count + 4)
        out.append(contentsOf: [.cr, .lf])
        out.append(contentsOf: bytes)
        out.append(contentsOf: [.cr, .lf])
        if bytes.isEmpty { return Array("0\r\n\r\n".utf8) }
        return out
    }

    /// `value` (not negative) in decimal digits.
    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func isCompressible(_ contentType: String?) -> Bool {
        guard let type = contentType?.lowercased() else { return false }
        return type.hasPrefix("text/") || type.contains("json") || type.contains("yaml")
            || type.contains("xml") || type.contains("javascript")
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        var view = Substring(self)
        while let first = view.unicodeScalars.first, scalars.contains(first) { view = view.dropFirst() }
        while let last = view.unicodeScalars.last, scalars.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
