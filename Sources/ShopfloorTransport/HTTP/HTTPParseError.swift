/// Why the request decoder refused a connection's input. The connection answers with the matching
/// status (through the responder, so the body is the application's error format) and then closes.
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The request line exceeded the limit (414).
    case requestLineTooLong(limit: Int)
    /// The header section (or trailer section) exceeded the byte limit (431).
    case headersTooLarge(limit: Int)
    /// More header fields than allowed (431).
    case tooManyHeaders(limit: Int)
    /// The body exceeded the limit (413).
    case bodyTooLarge(limit: Int)
    /// Not `method SP request-target SP HTTP-version` (400), a bare LF in it among others.
    case malformedRequestLine
    /// A header line that is not `field-name ":" OWS field-value OWS`, or obs-fold, or ended by a bare
    /// LF (400).
    case malformedHeader
    /// HTTP/1.1 without exactly one `Host` field (RFC 9112 §3.2, 400).
    case invalidHost
    /// `Content-Length` not a non-negative decimal, or several different values (400).
    case invalidContentLength
    /// Both `Content-Length` and `Transfer-Encoding`, a smuggling vector (RFC 9112 §6.3, 400).
    case conflictingFraming
    /// A transfer coding other than `chunked` (501).
    case unsupportedTransferEncoding
    /// A chunk size that is not hex, too long, or chunk data not followed by CRLF (400).
    case invalidChunk
    /// A version other than HTTP/1.0 or HTTP/1.1 (505).
    case unsupportedVersion
    /// An `Expect` other than `100-continue` (RFC 9110 §10.1.1, 417).
    case unsupportedExpectation
}

/// Transport-level failures that the responder turns into a response body.
public enum HTTPTransportError: Error, Equatable, Sendable {
    case parse(HTTPParseError)
    /// The server is at its connection limit (503).
    case tooManyConnections
    /// The client's address holds as many connections as one address may (429).
    case tooManyConnectionsFromAddress
    /// The request was not received in time (408).
    case requestTimeout
}
