/// Why ``HTTPResponseDecoder`` refused a response. Any of these ends the connection: after a framing
/// error nothing on it can be trusted to start where the next response would.
public enum HTTPResponseParseError: Error, Equatable, Sendable {
    /// The status line and fields (of interim 1xx responses and the final one together) exceeded the limit.
    case headTooLarge(limit: Int)
    /// More header fields than allowed.
    case tooManyHeaderFields(limit: Int)
    /// Not `HTTP-version SP 3DIGIT [SP reason-phrase]` (RFC 9112 §4), or a status outside 100–599.
    case malformedStatusLine
    /// A version other than HTTP/1.0 or HTTP/1.1.
    case unsupportedVersion
    /// A field line that is not `field-name ":" OWS field-value OWS`, holds control characters, or
    /// continues the previous line (obs-fold, RFC 9112 §5.2).
    case malformedHeaderField
    /// `Content-Length` not a non-negative decimal.
    case invalidContentLength
    /// Several `Content-Length` values that differ (RFC 9112 §6.3: unrecoverable).
    case conflictingContentLength
    /// Both `Transfer-Encoding` and `Content-Length`: a response-splitting vector (RFC 9112 §6.3).
    case conflictingFraming
    /// A transfer coding other than `chunked` alone, or any in an HTTP/1.0 response.
    case unsupportedTransferEncoding
    /// A chunk-size line that is not hex, is too long, or chunk data not followed by CRLF.
    case invalidChunk
    /// The trailer section exceeded the head limit.
    case trailersTooLarge(limit: Int)
    /// `101 Switching Protocols`, which this client never asks for.
    case unsolicitedSwitchingProtocols
}
