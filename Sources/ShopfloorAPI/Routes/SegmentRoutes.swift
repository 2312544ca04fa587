import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// Saved segments for admins (API.md, Segments), each read with how many customers it holds now.
struct SegmentRoutes {
    let segments: SegmentService

    func register(on router: inout Router) {
        router.on(.post, "/v1/segments") { request, context in
            try context.require(.admin)
            let body = try Self.decode(request)
            guard let name = body.name else { throw ValidationError(field: "name", detail: "is required") }
            guard let filter = body.filter else { throw ValidationError(field: "filter", detail: "is required") }
            let made = try await segments.create(name: name, filter: filter)
            return try JSON.response(SegmentDTO(made, count: try segments.count(made)), status: .created)
        }
        router.on(.post, "/v1/segments/preview") { request, context in
            try context.require(.admin)
            guard let filter = try Self.decode(request).filter else { throw ValidationError(field: "filter", detail: "is required") }
            return try JSON.response(SegmentPreview(count: try segments.count(filter: filter)))
        }
        router.on(.get, "/v1/segments") { request, context in
            try context.require(.admin)
            let page = try segments.segments(limit: try request.limit(), before: try CustomerRoutes.cursor(request))
            return try JSON.response(Page(items: try page.items.map { SegmentDTO($0, count: try segments.count($0)) }, nextCursor: page.nextCursor))
        }
        router.on(.get, "/v1/segments/{id}") { _, context in
            try context.require(.admin)
            let segment = try segments.segment(SegmentID(rawValue: try context.parameter("id")))
            return try JSON.response(SegmentDTO(segment, count: try segments.count(segment)))
        }
        router.on(.patch, "/v1/segments/{id}") { request, context in
            try context.require(.admin)
            let body = try Self.decode(request)
            let changed = try await segments.update(SegmentID(rawValue: try context.parameter("id")), name: body.name, filter: body.filter)
            return try JSON.response(SegmentDTO(changed, count: try segments.count(changed)))
        }
        router.on(.delete, "/v1/segments/{id}") { _, context in
            try context.require(.admin)
            try await segments.delete(SegmentID(rawValue: try context.parameter("id")))
            return HTTPServerResponse(status: .noContent)
        }
    }

    /// A segment body: the name decoded, the filter taken from the parsed document as written (its
    /// keys are the filter's own, not members to rename). A filter nested past the parser's depth is
    /// the filter's fault, so it is a 422 naming `filter` rather than the 400 of a body that is not JSON.
    private static func decode(_ request: HTTPServerRequest) throws -> (name: String?, filter: JSONValue?) {
        do {
            let (body, document) = try request.decodeWithDocument(SegmentName.self)
            guard case .object(let members, _) = document, let filter = members["filter"], filter != .null else { return (body.name, nil) }
            return (body.name, filter)
        } catch let failure as JSONParser.Failure where failure.reason == .tooDeep {
            throw ValidationError(field: "filter", detail: "nests deeper than \(SegmentFilter.maxDepth) levels")
        }
    }
}

/// `POST /v1/segments/preview`: how many customers the filter holds now.
private struct SegmentPreview: Encodable {
    var count: Int
}

/// The name member of a `POST` or `PATCH /v1/segments…` body; `null` counts as absent.
private struct SegmentName: Decodable {
    var name: String?
}
