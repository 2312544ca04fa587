import Foundation

/// Filters and a page of the product list (`GET /v1/products`).
public struct ProductQuery: Sendable {
    /// Full-text search over title, description, tags and SKUs, prefix-matched and ranked.
    public var text: String?
    public var category: String?
    public var tag: String?
    public var barcode: String?
    public var status: Product.Status?
    /// Only products with at least one unit sellable online.
    public var inStock = false
    public var limit = 50
    public var cursor: Cursor?

    public init() {}

    /// Where the previous page ended: after a product (lists) or after a number of ranked hits (search).
    public enum Cursor: Sendable, Equatable {
        case after(seq: Int64)
        case offset(Int)

        /// The opaque text form clients send back.
        public var token: String {
            let raw = switch self {
            case .after(let seq): "s\(seq)"
            case .offset(let offset): "o\(offset)"
            }
            return Data(raw.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        }

        public init?(token: String) {
            let padded = token + String(repeating: "=", count: (4 - token.count % 4) % 4)
            guard token.count <= 32, let data = Data(base64Encoded: padded), let raw = String(data: data, encoding: .utf8),
                  let kind = raw.first, let number = Int64(raw.dropFirst()), number >= 0
            else { return nil }
            switch kind {
            case "s": self = .after(seq: number)
            case "o": self = .offset(Int(number))
            default: return nil
            }
        }
    }

    /// Everything that decides the page, as one string.
    var cacheKey: String {
        [text.map { searchWords?.joined(separator: " ") ?? $0 } ?? "", category ?? "", tag ?? "", barcode ?? "", status?.rawValue ?? "", "\(limit)", cursor?.token ?? ""]
            .map { $0.replacingOccurrences(of: "\u{1F}", with: "") }.joined(separator: "\u{1F}")
    }

    /// The words of `text` to search for, cut and folded as product text is (``SearchText``), at most
    /// 16: a product matches when each is the start of a word of its text (`lin sh` finds "Linen
    /// shirt"). `nil` when the text has no words.
    public var searchWords: [String]? {
        guard let text else { return nil }
        let words = SearchText.terms(text).prefix(16)
        return words.isEmpty ? nil : Array(words)
    }
}

/// One page of results and where the next begins.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// The first `limit` of `rows`, read one past the limit to know whether more follow; the next
    /// cursor is then the position of the page's last row.
    init<Row>(_ rows: [Row], limit: Int, position: (Row) -> Int64, item: (Row) -> Item) {
        self.init(items: rows.prefix(limit).map(item), nextCursor: rows.count > limit ? String(position(rows[limit - 1])) : nil)
    }
}

extension Page: Encodable where Item: Encodable {
    private enum CodingKeys: String, CodingKey { case items, nextCursor }

    /// Always writes `next_cursor`, as `null` on the last page (API.md, Lists).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
