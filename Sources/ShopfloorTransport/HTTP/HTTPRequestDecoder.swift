import HTTPTypes

/// An incremental HTTP/1.1 request decoder (RFC 9112), fed whatever bytes have arrived.
///
/// ```
/// request-line   = method SP request-target SP HTTP-version CRLF        (§3)
/// field-line     = field-name ":" OWS field-value OWS CRLF               (§5)
/// message-body   = Content-Length octets | chunked-body                  (§6)
/// chunked-body   = *chunk last-chunk trailer-section CRLF                (§7.1)
/// chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// ```
///
/// Every limit in ``HTTPLimits`` is checked as bytes arrive, before buffering past it. A request is
/// emitted only when its body is complete. Input may be split at any byte.
struct HTTPRequestDecoder {
    /// What a call to ``next(_:)`` found.
    enum Event: Sendable {
        /// A header section asking for `100 Continue` was read; its body has not arrived yet.
        case expectsContinue
        /// A complete request.
        case request(HTTPServerRequest)
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(bytes: Int)
    }

    private let limits: HTTPLimits
    private let isSecure: Bool
    private let peer: IPAddress?
    private var state = State.head
    private var scanned = 0
    /// How many bytes of the head waiting for its end were looked at for a bare LF, so a head that
    /// trickles in a byte at a time is looked at once, not once per byte.
    private var checkedForLF = 0
    private var pending: HTTPServerRequest?

    init(limits: HTTPLimits, isSecure: Bool = false, peer: IPAddress? = nil) {
        self.peer = peer
        self.limits = limits
        self.isSecure = isSecure
    }

    /// Whether a request has started arriving but is not complete.
    var isMidRequest: Bool {
        if case .head = state { return false }
        return true
    }

    var isReadingBody: Bool { pending != nil }

    mutating func next(_ buffer: inout InboundBuffer) throws(HTTPParseError) -> Event? {
        while true {
            switch state {
            case .head:
                return try decodeHead(&buffer)
            case .fixedBody(let remaining):
                let count = min(remaining, buffer.readableCount)
                appendBody(buffer, count: count)
                buffer.moveReaderIndex(by: count)
                if remaining - count > 0 {
                    state = .fixedBody(remaining: remaining - count)
                    return nil
                }
                return finish()
            case .chunkSize:
                guard let (lineLength, size) = try decodeChunkSize(buffer) else { return nil }
                buffer.moveReaderIndex(by: lineLength + 2)
                if size == 0 {
                    state = .trailers(bytes: 0)
                } else {
                    guard (pending?.body.count ?? 0) + size <= limits.maxBodySize else {
                        throw .bodyTooLarge(limit: limits.maxBodySize)
                    }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let count = min(remaining, buffer.readableCount)
                appendBody(buffer, count: count)
                buffer.moveReaderIndex(by: count)
                if remaining - count > 0 {
                    state = .chunkData(remaining: remaining - count)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.readableCount >= 2 else { return nil }
                let isCRLF = buffer.bytes[buffer.readerIndex] == .cr && buffer.bytes[buffer.readerIndex + 1] == .lf
                guard isCRLF else { throw .invalidChunk }
                buffer.moveReaderIndex(by: 2)
                state = .chunkSize
            case .trailers(let bytes):
                guard let lineEnd = findCRLF(buffer, from: buffer.readerIndex) else {
                    if bytes + buffer.readableCount > limits.maxHeaderBytes { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
                    return nil
                }
                let lineLength = lineEnd - buffer.readerIndex
                guard bytes + lineLength + 2 <= limits.maxHeaderBytes else { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
                if lineLength > 0 {
                    guard HTTPSyntax.fieldLine(buffer.bytes[buffer.readerIndex..<lineEnd]) != nil else { throw .malformedHeader }
                }
                buffer.moveReaderIndex(by: lineLength + 2)
                if lineLength == 0 { return finish() }
                state = .trailers(bytes: bytes + lineLength + 2)
            }
        }
    }

    private mutating func appendBody(_ buffer: InboundBuffer, count: Int) {
        guard count > 0 else { return }
        pending?.body.append(contentsOf: buffer.bytes[buffer.readerIndex..<buffer.readerIndex + count])
    }

    private mutating func finish() -> Event? {
        state = .head
        defer { pending = nil }
        return pending.map { .request($0) }
    }

    private func findCRLF(_ buffer: InboundBuffer, from start: Int) -> Int? {
        buffer.bytes.withUnsafeBufferPointer { bytes in
            var index = start
            // Look at every second byte: a CRLF always has one of its bytes there.
            while index + 1 < bytes.count {
                switch bytes[index + 1] {
                case .lf:
                    if bytes[index] == .cr { return index }
                    index += 2
                case .cr:
                    index += 1
                default:
                    index += 2
                }
            }
            return nil
        }
    }

    // MARK: Head

    private mutating func decodeHead(_ buffer: inout InboundBuffer) throws(HTTPParseError) -> Event? {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
        while buffer.readableCount >= 2 && buffer.bytes[buffer.readerIndex] == .cr && buffer.bytes[buffer.readerIndex + 1] == .lf {
            buffer.moveReaderIndex(by: 2)
            checkedForLF = max(0, checkedForLF - 2)
        }
        let start = buffer.readerIndex
        guard let lineEnd = findCRLF(buffer, from: start) else {
            // RFC 9112 §2.2: a bare LF is refused at once, as it would be in a whole head, not waited on.
            if hasBareLF(buffer, from: start) { throw .malformedRequestLine }
            // A line at the limit may be here with its CR but not yet its LF.
            if buffer.readableCount > limits.maxRequestLineLength + 1 { throw .requestLineTooLong(limit: limits.maxRequestLineLength) }
            return nil
        }
        guard lineEnd - start <= limits.maxRequestLineLength else { throw .requestLineTooLong(limit: limits.maxRequestLineLength) }
        // The header section (fields with their CRLFs) is [lineEnd + 2, headEnd + 2): headEnd - lineEnd
        // bytes. Until its final empty line is complete, up to 2 + limit + 1 bytes may follow lineEnd.
        guard let headEnd = findHeadEnd(buffer, from: lineEnd) else {
            if hasBareLF(buffer, from: lineEnd + 2) { throw .malformedHeader }
            if buffer.bytes.count - lineEnd > limits.maxHeaderBytes + 3 { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
            return nil
        }
        guard headEnd - lineEnd <= limits.maxHeaderBytes else { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
        scanned = 0
        checkedForLF = 0
        var request = try parseHead(buffer.bytes, requestLine: start..<lineEnd, fields: lineEnd + 2..<headEnd + 2)
        buffer.moveReaderIndex(by: headEnd + 4 - start)
        switch request.framing {
        case .none:
            state = .head
            return .request(request.request)
        case .length(let length):
            request.request.body.reserveCapacity(length)
            pending = request.request
            state = .fixedBody(remaining: length)
        case .chunked:
            pending = request.request
            state = .chunkSize
        }
        return request.request.expectsContinue ? .expectsContinue : try next(&buffer)
    }

    /// Whether an LF from `start` on, not yet looked at, has no CR before it. Looked for only while a
    /// head waits for its end, so a complete head arriving at once costs nothing more.
    private mutating func hasBareLF(_ buffer: InboundBuffer, from start: Int) -> Bool {
        let bytes = buffer.bytes
        var index = max(start, buffer.readerIndex + checkedForLF)
        checkedForLF = bytes.count - buffer.readerIndex
        while index < bytes.count, let lf = bytes[index...].firstIndex(of: .lf) {
            if lf == buffer.readerIndex || bytes[lf - 1] != .cr { return true }
            index = lf + 1
        }
        return false
    }

    /// Finds the CRLF CRLF ending the header section, remembering how far it looked so that a head
    /// arriving a byte at a time is scanned once, not once per byte.
    private mutating func findHeadEnd(_ buffer: InboundBuffer, from lineEnd: Int) -> Int? {
        let bytes = buffer.bytes
        var index = max(lineEnd, buffer.readerIndex + scanned - 3)
        while index + 3 < bytes.count {
            if bytes[index] == .cr && bytes[index + 1] == .lf && bytes[index + 2] == .cr && bytes[index + 3] == .lf {
                return index
            }
            index += 1
        }
        scanned = max(0, bytes.count - buffer.readerIndex)
        return nil
    }

    fileprivate enum Framing { case none, length(Int), chunked }

    private func parseHead(_ bytes: [UInt8], requestLine: Range<Int>, fields: Range<Int>) throws(HTTPParseError) -> (request: HTTPServerRequest, framing: Framing) {
        let line = bytes[requestLine]
        guard let firstSpace = line.firstIndex(of: .space),
              let secondSpace = line[(firstSpace + 1)...].firstIndex(of: .space)
        else { throw .malformedRequestLine }
        let methodBytes = line[..<firstSpace]
        let target = line[(firstSpace + 1)..<secondSpace]
        let version = line[(secondSpace + 1)...]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(\.isTokenCharacter),
              let method = HTTPRequest.Method(String(decoding: methodBytes, as: UTF8.self)),
              !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .malformedRequestLine }
        let isHTTP11: Bool
        switch Array(version) {
        case Array("HTTP/1.1".utf8): isHTTP11 = true
        case Array("HTTP/1.0".utf8): isHTTP11 = false
        case let other where other.count == 8 && other.starts(with: "HTTP/".utf8) && other[5].isDigit && other[6] == .period && other[7].isDigit:
            throw .unsupportedVersion
        default:
            throw .malformedRequestLine
        }

        var headerFields = HTTPFields()
        var host: String?
        var hostCount = 0
        var contentLength: Int?
        var chunked = false
        var sawTransferEncoding = false
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false
        var count = 0
        var lineStart = fields.lowerBound
        while lineStart < fields.upperBound {
            var lineEnd = lineStart
            while lineEnd + 1 < fields.upperBound, !(bytes[lineEnd] == .cr && bytes[lineEnd + 1] == .lf) { lineEnd += 1 }
            count += 1
            guard count <= limits.maxHeaderCount else { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
            guard let (nameRange, valueRange) = HTTPSyntax.fieldLine(bytes[lineStart..<lineEnd]) else { throw .malformedHeader }
            let name = bytes[nameRange]
            let value = bytes[valueRange]
            switch name.count {
            case 4 where name.equalsLowercased("host"):
                hostCount += 1
                host = String(decoding: value, as: UTF8.self)
            case 14 where name.equalsLowercased("content-length"):
                // RFC 9110 §8.6: one or more digits; a list of identical values is tolerated.
                let elements = value.split(separator: .comma, omittingEmptySubsequences: false)
                guard !elements.isEmpty else { throw .invalidContentLength }
                for element in elements {
                    let trimmed = element.trimmingOWS()
                    guard !trimmed.isEmpty, trimmed.count <= 18, trimmed.allSatisfy(\.isDigit) else { throw .invalidContentLength }
                    let parsed = trimmed.reduce(0) { $0 * 10 + Int($1 - .zero) }
                    guard contentLength == nil || contentLength == parsed else { throw .invalidContentLength }
                    contentLength = parsed
                }
            case 17 where name.equalsLowercased("transfer-encoding"):
                sawTransferEncoding = true
                let codings = value.split(separator: .comma).map { $0.trimmingOWS() }
                guard codings.count == 1, codings[0].equalsLowercased("chunked"), !chunked else { throw .unsupportedTransferEncoding }
                chunked = true
            case 10 where name.equalsLowercased("connection"):
                for token in value.split(separator: .comma).map({ $0.trimmingOWS() }) {
                    if token.equalsLowercased("close") { connectionClose = true }
                    if token.equalsLowercased("keep-alive") { connectionKeepAlive = true }
                }
            case 6 where name.equalsLowercased("expect"):
                guard value.trimmingOWS().equalsLowercased("100-continue") else { throw .unsupportedExpectation }
                expectsContinue = true
            default:
                break
            }
            if !(name.count == 4 && name.equalsLowercased("host")) {
                guard let fieldName = HTTPField.Name(String(decoding: name, as: UTF8.self)) else { throw .malformedHeader }
                headerFields.append(HTTPField(name: fieldName, lenientValue: value))
            }
            lineStart = lineEnd + 2
        }
        if isHTTP11 && hostCount != 1 { throw .invalidHost }
        if hostCount > 1 { throw .invalidHost }
        if sawTransferEncoding && contentLength != nil { throw .conflictingFraming }
        if sawTransferEncoding && !isHTTP11 { throw .unsupportedTransferEncoding }

        let framing: Framing
        if chunked {
            framing = .chunked
        } else if let contentLength, contentLength > 0 {
            guard contentLength <= limits.maxBodySize else { throw .bodyTooLarge(limit: limits.maxBodySize) }
            framing = .length(contentLength)
        } else {
            framing = .none
        }
        var path = String(decoding: target, as: UTF8.self)
        // RFC 9112 §3.2.2: the absolute form (a proxy's, which any server must accept) names the
        // authority, which then stands in place of Host.
        if let (authority, rest) = Self.absoluteForm(path) {
            host = authority
            path = rest
        }
        let head = HTTPRequest(method: method, scheme: nil, authority: host, path: path, headerFields: headerFields)
        let keepAlive = isHTTP11 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        var request = HTTPServerRequest(
            head: head, keepAlive: keepAlive,
            expectsContinue: expectsContinue && !(framing.isNone), isSecure: isSecure)
        request.isHTTP10 = !isHTTP11
        request.peer = peer
        return (request, framing)
    }

    /// `http://authority/path?query` as (authority, `/path?query`), or `nil` for any other form.
    static func absoluteForm(_ target: String) -> (authority: String, path: String)? {
        let lowered = target.prefix(8).lowercased()
        let schemeLength = lowered.hasPrefix("http://") ? 7 : lowered.hasPrefix("https://") ? 8 : 0
        guard schemeLength > 0 else { return nil }
        let rest = target.dropFirst(schemeLength)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<end]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        let tail = rest[end...]
        return (String(authority), tail.hasPrefix("/") ? String(tail) : "/" + tail)
    }

    /// Reads `chunk-size [ chunk-ext ] CRLF`, returning the line length (without CRLF) and the size.
    private func decodeChunkSize(_ buffer: InboundBuffer) throws(HTTPParseError) -> (Int, Int)? {
        guard let lineEnd = findCRLF(buffer, from: buffer.readerIndex) else {
            if buffer.readableCount > limits.maxChunkLineLength + 1 { throw .invalidChunk }
            return nil
        }
        let line = buffer.bytes[buffer.readerIndex..<lineEnd]
        guard line.count <= limits.maxChunkLineLength, let size = HTTPSyntax.chunkSize(line) else { throw .invalidChunk }
        return (line.count, size)
    }
}

@available(*, unavailable)
extension HTTPRequestDecoder: Sendable {}

extension HTTPRequestDecoder.Framing {
    fileprivate var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
    static let semicolon = UInt8(ascii: ";")
    static let comma = UInt8(ascii: ",")
    static let period = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")

    var isDigit: Bool { self >= .zero && self <= UInt8(ascii: "9") }
    var isOWS: Bool { self == .space || self == .tab }

    var hexValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self - .zero
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `tchar` of RFC 9110 §5.6.2.
    var isTokenCharacter: Bool {
        switch self {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}

extension Collection where Element == UInt8 {
    /// ASCII case-insensitive comparison with a lowercase literal.
    func equalsLowercased(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(self, expected).allSatisfy { byte, wanted in
                (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == wanted
            }
        }
    }
}

extension BidirectionalCollection where Element == UInt8 {
    func trimmingOWS() -> SubSequence {
        let head = drop { $0.isOWS }
        var end = head.endIndex
        while end > head.startIndex, head[head.index(before: end)].isOWS { end = head.index(before: end) }
        return head[..<end]
    }
}
