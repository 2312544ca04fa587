import Foundation
import HTTPTypes
import ShopfloorCrypto
import ShopfloorTransport

/// The pages the binary serves (`web/`, embedded at build time): the back office at `/admin/`, the
/// till at `/pos/`, the demo storefront at `/shop/`, and what they share at `/shared/`.
///
/// Everything is prepared once at start: each file's ETag (a hash of its bytes), its gzip form when
/// that is smaller, and each page's references to its own scripts and styles stamped `?v=<hash>`, so
/// a stamped request may be cached for a year while an unstamped one (a module another imports, the
/// page itself) is revalidated with `If-None-Match` and answered 304. Every answer carries a strict
/// Content-Security-Policy: scripts only from the server itself, never inline.
struct StaticPages: Sendable {
    /// One file, ready to serve.
    struct Asset: Sendable {
        var contentType: String
        var bytes: [UInt8]
        var gzipped: [UInt8]?
        var etag: String
        /// The hash a page stamps on its references to this file.
        var version: String
    }

    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    /// Assets by the URL path they are served at (`/shop/shop.js`; `/shop/` for its index).
    let assets: [String: Asset]

    /// `files` maps paths under `web/` (`shop/index.html`) to their text.
    init(files: [String: String]) {
        var prepared: [String: Asset] = [:]
        for (path, text) in files where !path.hasSuffix(".html") {
            prepared["/" + path] = Self.asset(Array(text.utf8), contentType: Self.contentType(of: path))
        }
        for (path, text) in files where path.hasSuffix(".html") {
            let stamped = Self.stamp(text, at: path, versions: prepared)
            let url = path.hasSuffix("/index.html") ? "/" + path.dropLast("index.html".count) : "/" + path
            prepared[url] = Self.asset(Array(stamped.utf8), contentType: "text/html; charset=utf-8")
        }
        assets = prepared
    }

    func register(on router: inout Router) {
        for (path, asset) in assets {
            router.on(.get, path) { request, _ in
                // The router reads `/shop` as `/shop/`; a page's relative links need the slash.
                if path.hasSuffix("/"), !request.path.hasSuffix("/") {
                    return HTTPServerResponse(status: .movedPermanently, headerFields: [.location: path])
                }
                return Self.serve(asset, to: request)
            }
        }
    }

    /// The asset, its gzip form when the client takes it, or 304 when the client has it.
    static func serve(_ asset: Asset, to request: HTTPServerRequest) -> HTTPServerResponse {
        var fields: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            .vary: "Accept-Encoding",
            .contentSecurityPolicy: contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            .referrerPolicy: "same-origin",
        ]
        let stamped = QueryParameters(request.query)["v"] == asset.version
        fields[.cacheControl] = stamped ? "public, max-age=31536000, immutable" : "no-cache"
        if let known = request.head.headerFields[.ifNoneMatch], known.split(separator: ",").contains(where: {
            let tag = $0.trimmingPrefix(" ")
            return tag == asset.etag || tag == "W/" + asset.etag || tag == "*"
        }) {
            return HTTPServerResponse(status: .notModified, headerFields: fields)
        }
        if let gzipped = asset.gzipped, acceptsGzip(request.head.headerFields[.acceptEncoding]) {
            fields[.contentEncoding] = "gzip"
            return HTTPServerResponse(status: .ok, headerFields: fields, body: .bytes(gzipped))
        }
        return HTTPServerResponse(status: .ok, headerFields: fields, body: .bytes(asset.bytes))
    }

    /// Whether `Accept-Encoding` lists gzip with a quality above zero (RFC 9110 §12.5.3).
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.lowercased().split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first == "gzip" || parts.first == "x-gzip" else { continue }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0
        }
        return false
    }

    private static func asset(_ bytes: [UInt8], contentType: String) -> Asset {
        let digest = Digest.sha256(bytes)
        let hex = digest.prefix(12).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let gzipped = bytes.count > 512 ? (try? Deflater.gzip(bytes, level: 9)).flatMap { $0.count < bytes.count ? $0 : nil } : nil
        return Asset(contentType: contentType, bytes: bytes, gzipped: gzipped, etag: "\"\(hex)\"", version: String(hex.prefix(10)))
    }

    /// The page with each `src="…"` and `href="…"` naming one of our files given its `?v=` stamp.
    private static func stamp(_ html: String, at path: String, versions: [String: Asset]) -> String {
        let directory = path.split(separator: "/").dropLast()
        var out = ""
        var rest = Substring(html)
        while let match = rest.firstMatch(of: /(src|href)="([^"?#:]+)"/) {
            out += rest[..<match.range.lowerBound]
            let reference = String(match.output.2)
            var segments = Array(directory)
            for part in reference.split(separator: "/") {
                if part == ".." { _ = segments.popLast() } else if part != "." { segments.append(part) }
            }
            if let asset = versions["/" + segments.joined(separator: "/")] {
                out += "\(match.output.1)=\"\(reference)?v=\(asset.version)\""
            } else {
                out += rest[match.range]
            }
            rest = rest[match.range.upperBound...]
        }
        return out + rest
    }

    private static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last {
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json", "webmanifest": "application/json"
        default: "text/plain; charset=utf-8"
        }
    }
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
