public import HTTPTypes

/// A complete request as the transport hands it to the responder: head and whole body.
///
/// Bodies are collected in full (they are bounded by ``HTTPLimits/maxBodySize``) so handlers decode
/// JSON from one contiguous buffer.
public struct HTTPServerRequest: Sendable {
    /// Method, target (`path` holds path and query), authority from `Host`, and the other fields.
    public var head: HTTPRequest
    public var body: [UInt8]
    /// `true` for HTTP/1.1 unless `Connection: close`; for HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool
    /// Whether the client asked for `100 Continue` before sending the body.
    public var expectsContinue: Bool
    /// Whether the connection is TLS.
    public var isSecure: Bool
    /// The address of the socket's peer: the client, or a proxy in front of it.
    public var peer: IPAddress?
    /// HTTP/1.0, whose persistent connections must be confirmed with `Connection: keep-alive`.
    var isHTTP10 = false

    public init(head: HTTPRequest, body: [UInt8] = [], keepAlive: Bool = true, expectsContinue: Bool = false, isSecure: Bool = false) {
        self.head = head
        self.body = body
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
        self.isSecure = isSecure
    }

    /// The path without its query.
    public var path: Substring {
        let target = head.path ?? "/"
        // By byte: `?` is ASCII, and a search by `Character` would break the target into graphemes.
        return target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? target[...]
    }

    /// The raw query string after `?`, if any.
    public var query: Substring? {
        let target = head.path ?? "/"
        return target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[target.utf8.index(after: $0)...] }
    }
}
