import Foundation
import HTTPTypes
import ShopfloorTransport

/// What a cache may keep. An answer to a request with a key, a customer token or a staff session,
/// and any answer not on the public catalogue's reads (carts, orders and tracking are reached by a
/// capability in the URL), is `no-store`. An anonymous read of the catalogue, the locations, the
/// shipping methods or `openapi.yaml` carries a weak ETag of its body and `no-cache`, and an
/// `If-None-Match` naming it is answered 304 with no body. A route that set `Cache-Control` itself
/// (the pages, sessions) is left as it is.
///
/// Applied by the access log middleware to what it logs, so the log shows the status that went out
/// (304), without another async step on every request.
enum CachePolicy {
    @inline(never)
    static func apply(to response: HTTPServerResponse, for request: HTTPServerRequest) -> HTTPServerResponse {
        guard response.headerFields[.cacheControl] == nil else { return response }
        var response = response
        if case .webSocket = response.body { return response }
        guard response.status == .ok, case .bytes(let body) = response.body, isPublicRead(request) else {
            response.headerFields[.cacheControl] = "no-store"
            return response
        }
        let tag = etag(of: body)
        response.headerFields[.eTag] = tag
        response.headerFields[.cacheControl] = "no-cache"
        if let known = request.head.headerFields[.ifNoneMatch], matches(known, tag) {
            var fields = response.headerFields
            fields[.contentType] = nil
            return HTTPServerResponse(status: .notModified, headerFields: fields)
        }
        return response
    }

    /// A GET or HEAD with no credential of any kind, on a route whose answer is the same for everyone.
    static func isPublicRead(_ request: HTTPServerRequest) -> Bool {
        guard request.head.method == .get || request.head.method == .head else { return false }
        let fields = request.head.headerFields
        guard fields[.authorization] == nil else { return false }
        if let cookies = fields[.cookie], cookies.contains(AuthMiddleware.sessionCookie + "=") { return false }
        let path = request.path
        return path == "/openapi.yaml" || path == "/v1/locations" || path == "/v1/shipping-methods"
            || path == "/v1/products" || path.hasPrefix("/v1/products/")
    }

    /// A 64-bit hash of the body taken eight bytes at a time (FNV-1a's constants over words, each
    /// folded with a rotation): stable across restarts and instances, and cheap on the catalogue's
    /// hottest read. Not a defence against anyone, only a change detector. Weak, as the bytes on the
    /// wire differ when they are gzipped.
    static func etag(of body: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(body.count)
        body.withUnsafeBytes { raw in
            let words = raw.count / 8
            for index in 0..<words {
                hash = ((hash ^ raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) &* 0x100_0000_01b3)
                hash ^= hash >> 29
            }
            for byte in raw[(words * 8)...] { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        hash ^= hash >> 32
        let hex = String(hash, radix: 16)
        return "W/\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }

    /// `If-None-Match` by weak comparison (RFC 9110 §13.1.2): `*`, or a listed tag with or without `W/`.
    static func matches(_ header: String, _ tag: String) -> Bool {
        let opaque = tag.dropFirst(2)
        return header.split(separator: ",").contains { item in
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            return trimmed == "*" || trimmed == opaque || (trimmed.hasPrefix("W/") && trimmed.dropFirst(2) == opaque)
        }
    }
}
