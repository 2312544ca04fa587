public import HTTPTypes
public import ShopfloorTransport

/// A request handler: the request, its context with path parameters, and the response.
public typealias RequestHandler = @Sendable (HTTPServerRequest, RequestContext) async throws -> HTTPServerResponse

/// Routes by method and path: literal segments and `{name}` parameters, matched segment by segment
/// in a tree so lookup costs the path's length, not the number of routes.
///
/// A path with no route is 404; a path whose route lacks the method is 405 with `Allow` (RFC 9110
/// §15.5.6). `HEAD` is served by the `GET` handler; the transport leaves out the body.
public struct Router: Sendable {
    private struct Node: Sendable {
        var literals: [Substring: Node] = [:]
        var parameterName: String?
        var parameter: [Node] = []
        var handlers: [HTTPRequest.Method: Route] = [:]
    }

    /// What a lookup found.
    public enum Match: Sendable {
        /// The handler, the path's parameters, and the route (its pattern is metrics' label).
        case handler(RequestHandler, parameters: [String: String], route: Route)
        case methodNotAllowed(allowed: [HTTPRequest.Method])
        case notFound
    }

    /// A registered route: its pattern (`/v1/products/{id}`) and its number, a cheap key for metrics.
    public struct Route: Sendable {
        let handler: RequestHandler
        public let pattern: String
        public let number: Int
    }

    private var root = Node()
    private var count = 0

    public init() {}

    /// Adds `handler` for `method` on `pattern`, such as `/v1/products/{id}`.
    public mutating func on(_ method: HTTPRequest.Method, _ pattern: String, handler: @escaping RequestHandler) {
        let segments = pattern.split(separator: "/")
        Router.insert(into: &root, segments: segments[...], method: method, route: Route(handler: handler, pattern: pattern, number: count))
        count += 1
    }

    private static func insert(into node: inout Node, segments: ArraySlice<Substring>, method: HTTPRequest.Method,
                               route: Route) {
        guard let segment = segments.first else {
            precondition(node.handlers[method] == nil, "route registered twice")
            node.handlers[method] = route
            return
        }
        if segment.hasPrefix("{") && segment.hasSuffix("}") {
            let name = String(segment.dropFirst().dropLast())
            precondition(node.parameterName == nil || node.parameterName == name, "conflicting parameter names")
            node.parameterName = name
            if node.parameter.isEmpty { node.parameter = [Node()] }
            insert(into: &node.parameter[0], segments: segments.dropFirst(), method: method, route: route)
        } else {
            var child = node.literals[segment] ?? Node()
            insert(into: &child, segments: segments.dropFirst(), method: method, route: route)
            node.literals[segment] = child
        }
    }

    /// Finds the handler for `method` on `path` (without its query).
    public func match(_ method: HTTPRequest.Method, path: Substring) -> Match {
        var node = root
        var parameters: [String: String] = [:]
        // Segments found by byte, as `split` would give them (empty ones skipped), without an array.
        let bytes = path.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
            defer { start = end < bytes.endIndex ? bytes.index(after: end) : end }
            guard start < end else { continue }
            let segment = path[start..<end]
            if let next = node.literals[segment] {
                node = next
            } else if let name = node.parameterName, let next = node.parameter.first {
                guard let value = segment.removingPercentEncoding else { return .notFound }
                // Routes have one or two parameters: room for both at once, not a second table.
                if parameters.isEmpty { parameters.reserveCapacity(2) }
                parameters[name] = value
                node = next
            } else {
                return .notFound
            }
        }
        if let route = node.handlers[method] ?? (method == .head ? node.handlers[.get] : nil) {
            return .handler(route.handler, parameters: parameters, route: route)
        }
        guard !node.handlers.isEmpty else { return .notFound }
        var allowed = Array(node.handlers.keys)
        if node.handlers[.get] != nil && node.handlers[.head] == nil { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }
}

extension StringProtocol {
    /// Decodes `%XX` escapes; `nil` for a malformed escape or bytes that are not UTF-8.
    var removingPercentEncoding: String? {
        if !utf8.contains(UInt8(ascii: "%")) { return String(self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexDigit), let low = iterator.next().flatMap(hexDigit) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

private func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
