import HTTPTypes

/// An incremental HTTP/1.1 response decoder (RFC 9112) for the client, fed whatever bytes arrive.
///
/// ```
/// status-line  = HTTP-version SP status-code SP [ reason-phrase ] CRLF      (§4)
/// field-line   = field-name ":" OWS field-value OWS CRLF                     (§5)
/// message-body = Content-Length octets | chunked-body | octets until close    (§6.3)
/// chunked-body = *chunk last-chunk trailer-section CRLF                      (§7.1)
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// ```
///
/// Pure: no socket and no clock, so input may be split at any byte and tests feed it that way. Every
/// limit is checked as bytes arrive, before buffering past it. Interim 1xx responses are read, checked
/// and dropped (RFC 9110 §15.2: a client must accept them unasked), their heads counting towards the
/// final one's limit so that no stream of them goes on for ever.
///
/// A body longer than ``Limits/maxBodyBytes`` is not an error: decoding ends there with the first that
/// many bytes and ``HTTPClientResponse/isBodyTruncated``, so a receiver that answers a webhook with
/// 50 MB costs 1 MiB, and the caller closes the connection with the rest unread.
///
/// One decoder reads one response, on the thread running its request.
struct HTTPResponseDecoder {
    struct Limits: Sendable, Equatable {
        /// Status line and fields with their CRLFs and the empty line; interim heads count too.
        var maxHeadBytes: Int
        /// Fields in the final head, and in the trailer section.
        var maxHeaderCount: Int
        var maxBodyBytes: Int
        /// Longest chunk-size line with its extensions, CRLF not counted.
        var maxChunkLineLength = 4 * 1024
    }

    /// A decoded final response.
    struct Message: Equatable {
        var response: HTTPClientResponse
        /// Whether the connection may carry another request: HTTP/1.1 without `Connection: close`, or
        /// HTTP/1.0 with `Connection: keep-alive` (RFC 9112 §9.3); a body that ended by its framing, not
        /// with the connection or at the limit; and no bytes after it, which no request asked for.
        var keepAlive: Bool
    }

    enum Progress: Equatable {
        case needsMoreInput
        case complete(Message)
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case finished
    }

    private let limits: Limits
    private let isHeadRequest: Bool
    private var state = State.head
    /// Received bytes; those before `readerIndex` are decoded.
    private var buffer: [UInt8] = []
    private var readerIndex = 0
    /// Where the search for the end of the head resumes, so a head arriving a byte at a time is
    /// scanned once, not once per byte.
    private var scanned = 0
    /// Bytes of interim heads already read.
    private var interimHeadBytes = 0
    private var trailerBytes = 0
    private var trailerCount = 0
    private var response = HTTPClientResponse(statusCode: 0, reasonPhrase: "", headerFields: [:], body: [], isBodyTruncated: false)
    private var keepAlive = false

    /// - Parameter requestMethod: a response to HEAD has no body whatever its fields say (RFC 9110 §9.3.2).
    init(limits: Limits, requestMethod: HTTPRequest.Method) {
        self.limits = limits
        self.isHeadRequest = requestMethod == .head
    }

    /// Decodes what `bytes` add. Calling again after `.complete` or an error is a bug.
    mutating func receive(_ bytes: [UInt8]) throws(HTTPResponseParseError) -> Progress {
        if case .finished = state { preconditionFailure("the response is already complete") }
        buffer.append(contentsOf: bytes)
        defer { compact() }
        return try advance()
    }

    /// The response, if the peer's closing the connection completes it: only a body delimited by the
    /// close (RFC 9112 §6.3, rule 8) ends that way. `nil` means the response was cut short.
    mutating func receiveEndOfStream() -> Message? {
        guard case .untilClose = state else { return nil }
        state = .finished
        return Message(response: response, keepAlive: false)
    }

    private mutating func advance() throws(HTTPResponseParseError) -> Progress {
        while true {
            switch state {
            case .head:
                guard try decodeHead() else { return .needsMoreInput }
                if case .finished = state { return finish() }
            case .fixedBody(let remaining):
                guard let left = takeBody(upTo: remaining) else { return truncate() }
                guard left == 0 else {
                    state = .fixedBody(remaining: left)
                    return .needsMoreInput
                }
                return finish()
            case .chunkData(let remaining):
                guard let left = takeBody(upTo: remaining) else { return truncate() }
                guard left == 0 else {
                    state = .chunkData(remaining: left)
                    return .needsMoreInput
                }
                state = .chunkDataEnd
            case .chunkSize:
                guard let lineEnd = findCRLF(from: readerIndex) else {
                    // A line at the limit may be here with its CR but not yet its LF.
                    guard buffer.count - readerIndex <= limits.maxChunkLineLength + 1 else { throw .invalidChunk }
                    return .needsMoreInput
                }
                let line = buffer[readerIndex..<lineEnd]
                guard line.count <= limits.maxChunkLineLength, let size = HTTPSyntax.chunkSize(line) else { throw .invalidChunk }
                readerIndex = lineEnd + 2
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkDataEnd:
                guard buffer.count - readerIndex >= 2 else { return .needsMoreInput }
                guard buffer[readerIndex] == .cr, buffer[readerIndex + 1] == .lf else { throw .invalidChunk }
                readerIndex += 2
                state = .chunkSize
            case .trailers:
                guard let lineEnd = findCRLF(from: readerIndex) else {
                    // The section is at least one byte longer than what is here.
                    guard trailerBytes + buffer.count - readerIndex < limits.maxHeadBytes else {
                        throw .trailersTooLarge(limit: limits.maxHeadBytes)
                    }
                    return .needsMoreInput
                }
                let length = lineEnd + 2 - readerIndex
                guard trailerBytes + length <= limits.maxHeadBytes else { throw .trailersTooLarge(limit: limits.maxHeadBytes) }
                trailerBytes += length
                if length == 2 {
                    readerIndex = lineEnd + 2
                    return finish()
                }
                // Trailers are checked, not kept: nothing this client serves reads them.
                guard HTTPSyntax.fieldLine(buffer[readerIndex..<lineEnd]) != nil else { throw .malformedHeaderField }
                trailerCount += 1
                guard trailerCount <= limits.maxHeaderCount else { throw .tooManyHeaderFields(limit: limits.maxHeaderCount) }
                readerIndex = lineEnd + 2
            case .untilClose:
                guard takeBody(upTo: buffer.count - readerIndex) != nil else { return truncate() }
                return .needsMoreInput
            case .finished:
                preconditionFailure("the response is already complete")
            }
        }
    }

    /// Moves up to `wanted` buffered bytes into the body and returns how many of `wanted` are still to
    /// come; `nil` if the body would pass the limit, having kept what fits.
    private mutating func takeBody(upTo wanted: Int) -> Int? {
        let count = min(wanted, buffer.count - readerIndex)
        let room = limits.maxBodyBytes - response.body.count
        let kept = min(count, room)
        response.body.append(contentsOf: buffer[readerIndex..<(readerIndex + kept)])
        readerIndex += kept
        return count <= room ? wanted - count : nil
    }

    private mutating func finish() -> Progress {
        state = .finished
        return .complete(Message(response: response, keepAlive: keepAlive && readerIndex == buffer.count))
    }

    private mutating func truncate() -> Progress {
        state = .finished
        response.isBodyTruncated = true
        return .complete(Message(response: response, keepAlive: false))
    }

    /// Drops decoded bytes, keeping the buffer as small as what is still undecoded.
    private mutating func compact() {
        guard readerIndex > 0 else { return }
        buffer.removeFirst(readerIndex)
        scanned = max(0, scanned - readerIndex)
        readerIndex = 0
    }

    private func findCRLF(from start: Int) -> Int? {
        var index = start
        while index + 1 < buffer.count {
            if buffer[index] == .cr && buffer[index + 1] == .lf { return index }
            index += 1
        }
        return nil
    }

    // MARK: Head

    /// Decodes one head if it is all here: `false` when more input is needed. Leaves the state at
    /// `.head` after an interim response, `.finished` for a response without a body.
    private mutating func decodeHead() throws(HTTPResponseParseError) -> Bool {
        let start = readerIndex
        let budget = limits.maxHeadBytes - interimHeadBytes
        var index = max(start, scanned - 3)
        var end: Int?
        while index + 3 < buffer.count {
            if buffer[index] == .cr && buffer[index + 1] == .lf && buffer[index + 2] == .cr && buffer[index + 3] == .lf {
                end = index
                break
            }
            index += 1
        }
        guard let end else {
            scanned = buffer.count
            // The head is at least one byte longer than what is here.
            guard buffer.count - start < budget else { throw .headTooLarge(limit: limits.maxHeadBytes) }
            return false
        }
        guard end + 4 - start <= budget else { throw .headTooLarge(limit: limits.maxHeadBytes) }
        readerIndex = end + 4
        scanned = readerIndex
        try parseHead(buffer[start..<(end + 2)])
        if (100...199).contains(response.statusCode) {
            guard response.statusCode != 101 else { throw .unsolicitedSwitchingProtocols }
            interimHeadBytes += end + 4 - start
        }
        return true
    }

    /// Parses a status line and its field lines, each with its CRLF, and sets what comes next.
    private mutating func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPResponseParseError) {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        var index = head.startIndex
        while index + 1 < head.endIndex {
            if head[index] == .cr && head[index + 1] == .lf {
                lines.append(head[lineStart..<index])
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        let (isHTTP11, statusCode, reason) = try Self.parseStatusLine(lines[0])
        guard lines.count - 1 <= limits.maxHeaderCount else { throw .tooManyHeaderFields(limit: limits.maxHeaderCount) }

        var fields = HTTPFields()
        var contentLength: Int?
        var transferCodings: [ArraySlice<UInt8>] = []
        var sawTransferEncoding = false
        var connectionClose = false
        var connectionKeepAlive = false
        for line in lines.dropFirst() {
            guard let (nameRange, valueRange) = HTTPSyntax.fieldLine(line),
                  let name = HTTPField.Name(String(decoding: line[nameRange], as: UTF8.self))
            else { throw .malformedHeaderField }
            let value = line[valueRange]
            switch name {
            case .contentLength:
                for element in value.split(separator: .comma, omittingEmptySubsequences: false) {
                    let trimmed = element.trimmingOWS()
                    guard !trimmed.isEmpty, trimmed.count <= 18, trimmed.allSatisfy(\.isDigit) else { throw .invalidContentLength }
                    let parsed = trimmed.reduce(0) { $0 * 10 + Int($1 - .zero) }
                    guard contentLength == nil || contentLength == parsed else { throw .conflictingContentLength }
                    contentLength = parsed
                }
            case .transferEncoding:
                sawTransferEncoding = true
                transferCodings += value.split(separator: .comma, omittingEmptySubsequences: false).map { $0.trimmingOWS() }
            case .connection:
                for token in value.split(separator: .comma).map({ $0.trimmingOWS() }) {
                    if token.equalsLowercased("close") { connectionClose = true }
                    if token.equalsLowercased("keep-alive") { connectionKeepAlive = true }
                }
            default:
                break
            }
            fields.append(HTTPField(name: name, lenientValue: value))
        }
        if sawTransferEncoding {
            guard isHTTP11, transferCodings.count == 1, transferCodings[0].equalsLowercased("chunked") else {
                throw .unsupportedTransferEncoding
            }
            guard contentLength == nil else { throw .conflictingFraming }
        }

        response.statusCode = statusCode
        response.reasonPhrase = reason
        response.headerFields = fields
        if statusCode < 200 { return }
        keepAlive = isHTTP11 ? !connectionClose : connectionKeepAlive && !connectionClose
        if isHeadRequest || statusCode == 204 || statusCode == 304 {
            state = .finished
        } else if sawTransferEncoding {
            state = .chunkSize
        } else if let contentLength {
            state = contentLength == 0 ? .finished : .fixedBody(remaining: contentLength)
        } else {
            keepAlive = false
            state = .untilClose
        }
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason-phrase]`; a missing space before an empty reason is accepted, as
    /// servers that drop it are common and the reason carries nothing.
    private static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(HTTPResponseParseError) -> (isHTTP11: Bool, code: Int, reason: String) {
        let bytes = Array(line)
        guard bytes.count >= 12, bytes[8] == .space else { throw .malformedStatusLine }
        let isHTTP11: Bool
        switch bytes[0..<8] {
        case Array("HTTP/1.1".utf8)[...]: isHTTP11 = true
        case Array("HTTP/1.0".utf8)[...]: isHTTP11 = false
        case let other where other.starts(with: "HTTP/".utf8) && other[5].isDigit && other[6] == .period && other[7].isDigit:
            throw .unsupportedVersion
        default:
            throw .malformedStatusLine
        }
        let digits = bytes[9..<12]
        guard digits.allSatisfy(\.isDigit), (UInt8(ascii: "1")...UInt8(ascii: "5")).contains(digits[9]) else { throw .malformedStatusLine }
        let code = digits.reduce(0) { $0 * 10 + Int($1 - .zero) }
        guard bytes.count == 12 || bytes[12] == .space else { throw .malformedStatusLine }
        let reason = bytes.dropFirst(13)
        guard reason.allSatisfy({ $0 == .tab || ($0 >= 0x20 && $0 != 0x7F) }) else { throw .malformedStatusLine }
        return (isHTTP11, code, String(decoding: reason, as: UTF8.self))
    }
}

@available(*, unavailable)
extension HTTPResponseDecoder: Sendable {}
