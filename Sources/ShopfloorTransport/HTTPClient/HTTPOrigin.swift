/// Scheme, host and port (RFC 6454's origin): requests to the same origin may share a connection,
/// requests to different ones never do.
struct HTTPOrigin: Hashable, Sendable {
    let scheme: HTTPClientURL.Scheme
    let host: String
    let port: Int
}
