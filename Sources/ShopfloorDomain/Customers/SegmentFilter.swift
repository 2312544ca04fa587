public import Foundation
public import ShopfloorJSON

/// Which customers a segment holds (API.md, Segments): `all`, `any` and `not` over conditions on what
/// they bought, viewed and spent, when they last ordered, their tags, consent and abandoned carts.
/// Parsed and checked here; the customer store turns it into its own query.
public indirect enum SegmentFilter: Sendable, Equatable {
    case all([SegmentFilter])
    case any([SegmentFilter])
    case not(SegmentFilter)
    case bought(Target, since: String?, minTimes: Int)
    case viewed(Target, since: String?)
    case totalSpent(gte: Int64?, lte: Int64?)
    case ordersCount(gte: Int?, lte: Int?)
    case lastOrderAt(before: String?, after: String?)
    case tag(String)
    case consent(ConsentChannel)
    case boughtAtLocation(String)
    /// A cart with lines the customer left, last changed at or after `since`: expired, or active but
    /// untouched since `idleSince` (an hour before the filter is evaluated; `nil` until resolved).
    case abandonedCart(since: String, idleSince: String?)
    /// A live shopper's stage (browsing, considering, hesitating): fed by live shoppers.
    case stage(String)

    /// What `bought` and `viewed` look for.
    public enum Target: Sendable, Equatable {
        case sku(String)
        case product(String)
        case category(String)
    }

    public static let stages = ["browsing", "considering", "hesitating"]
    /// How long an active cart sits untouched before it counts as abandoned.
    public static let idleCart: TimeInterval = 3600
    /// Conditions and combinators, at most: a filter is a query, and a huge one is a denial of service.
    static let maxNodes = 200
    /// How deep `all`, `any` and `not` may nest.
    public static let maxDepth = 20

    /// Reads a filter from its JSON, naming the failing member by its path (`filter.all[2].bought`).
    /// Times stay as written (relative ones such as `-30d` are resolved at each evaluation, by
    /// ``resolved(now:)``); money must be in `currency`, the shop's.
    public static func parse(_ value: JSONValue, currency: Currency, path: String = "filter") throws(ValidationError) -> SegmentFilter {
        var parser = Parser(currency: currency)
        return try parser.filter(value, path: path, depth: 1)
    }

    /// The filter with relative times (`-30d`) turned into instants before `now`, and every time in stored form.
    public func resolved(now: Date) -> SegmentFilter {
        func time(_ text: String?) -> String? { text.flatMap { SegmentFilter.instant($0, now: now) } }
        switch self {
        case .all(let parts): return .all(parts.map { $0.resolved(now: now) })
        case .any(let parts): return .any(parts.map { $0.resolved(now: now) })
        case .not(let part): return .not(part.resolved(now: now))
        case .bought(let target, let since, let times): return .bought(target, since: time(since), minTimes: times)
        case .viewed(let target, let since): return .viewed(target, since: time(since))
        case .lastOrderAt(let before, let after): return .lastOrderAt(before: time(before), after: time(after))
        case .abandonedCart(let since, _):
            return .abandonedCart(since: time(since) ?? since, idleSince: Timestamp.string(now.addingTimeInterval(-SegmentFilter.idleCart)))
        case .totalSpent, .ordersCount, .tag, .consent, .boughtAtLocation, .stage: return self
        }
    }

    /// An RFC 3339 time in stored form, or `-<n><unit>` (m, h, d, w) before `now`.
    static func instant(_ text: String, now: Date) -> String? {
        if let seconds = relativeSeconds(text) { return Timestamp.string(now.addingTimeInterval(-seconds)) }
        return Timestamp.normalised(text)
    }

    static func relativeSeconds(_ text: String) -> Double? {
        guard text.hasPrefix("-"), let unit = text.last, let count = Int(text.dropFirst().dropLast()), count >= 0, count <= 100_000
        else { return nil }
        let scale: Double? = switch unit {
        case "m": 60
        case "h": 3600
        case "d": 86_400
        case "w": 604_800
        default: nil
        }
        return scale.map { Double(count) * $0 }
    }

    private struct Parser {
        let currency: Currency
        var nodes = 0

        mutating func filter(_ value: JSONValue, path: String, depth: Int) throws(ValidationError) -> SegmentFilter {
            nodes += 1
            guard nodes <= SegmentFilter.maxNodes else {
                throw ValidationError(field: path, detail: "makes the filter longer than \(SegmentFilter.maxNodes) conditions")
            }
            guard depth <= SegmentFilter.maxDepth else {
                throw ValidationError(field: path, detail: "nests all, any and not deeper than \(SegmentFilter.maxDepth) levels")
            }
            guard case .object(let members, let order) = value, order.count == 1, let key = order.first, let body = members[key] else {
                throw ValidationError(field: path, detail: "must be an object with exactly one condition, such as {\"tag\":\"vip\"}")
            }
            let inner = "\(path).\(key)"
            switch key {
            case "all", "any":
                guard case .array(let items) = body, !items.isEmpty, items.count <= 50 else {
                    throw ValidationError(field: inner, detail: "must be an array of 1 to 50 filters")
                }
                var parts: [SegmentFilter] = []
                for (index, item) in items.enumerated() { parts.append(try filter(item, path: "\(inner)[\(index)]", depth: depth + 1)) }
                return key == "all" ? .all(parts) : .any(parts)
            case "not":
                return .not(try filter(body, path: inner, depth: depth + 1))
            case "bought":
                let object = try fields(of: body, inner, allowed: ["sku", "product_id", "category", "since", "min_times"])
                let times = try integer(object["min_times"], "\(inner).min_times") ?? 1
                guard times >= 1, times <= 1000 else { throw ValidationError(field: "\(inner).min_times", detail: "must be from 1 to 1000") }
                return .bought(try target(object, inner, kinds: ["sku", "product_id", "category"]),
                               since: try time(object["since"], "\(inner).since"), minTimes: times)
            case "viewed":
                let object = try fields(of: body, inner, allowed: ["product_id", "category", "since"])
                return .viewed(try target(object, inner, kinds: ["product_id", "category"]), since: try time(object["since"], "\(inner).since"))
            case "total_spent":
                let object = try fields(of: body, inner, allowed: ["gte", "lte"])
                let bounds = (try money(object["gte"], "\(inner).gte"), try money(object["lte"], "\(inner).lte"))
                guard bounds.0 != nil || bounds.1 != nil else { throw ValidationError(field: inner, detail: "needs gte, lte or both") }
                return .totalSpent(gte: bounds.0, lte: bounds.1)
            case "orders_count":
                let object = try fields(of: body, inner, allowed: ["gte", "lte"])
                let bounds = (try integer(object["gte"], "\(inner).gte"), try integer(object["lte"], "\(inner).lte"))
                guard bounds.0 != nil || bounds.1 != nil else { throw ValidationError(field: inner, detail: "needs gte, lte or both") }
                return .ordersCount(gte: bounds.0, lte: bounds.1)
            case "last_order_at":
                let object = try fields(of: body, inner, allowed: ["before", "after"])
                let bounds = (try time(object["before"], "\(inner).before"), try time(object["after"], "\(inner).after"))
                guard bounds.0 != nil || bounds.1 != nil else { throw ValidationError(field: inner, detail: "needs before, after or both") }
                return .lastOrderAt(before: bounds.0, after: bounds.1)
            case "tag":
                return .tag(try text(body, inner, max: 64))
            case "consent":
                guard case .string(let name) = body, let channel = ConsentChannel(rawValue: name) else {
                    throw ValidationError(field: inner, detail: "must be email, sms or push")
                }
                return .consent(channel)
            case "bought_at_location":
                return .boughtAtLocation(try text(body, inner, max: 64))
            case "abandoned_cart":
                let object = try fields(of: body, inner, allowed: ["since"])
                guard let since = try time(object["since"], "\(inner).since") else {
                    throw ValidationError(field: "\(inner).since", detail: "is required")
                }
                return .abandonedCart(since: since, idleSince: nil)
            case "stage":
                guard case .string(let stage) = body, SegmentFilter.stages.contains(stage) else {
                    throw ValidationError(field: inner, detail: "must be one of \(SegmentFilter.stages.joined(separator: ", "))")
                }
                return .stage(stage)
            default:
                throw ValidationError(field: inner, detail: "is not a condition: use all, any, not, bought, viewed, total_spent, orders_count, "
                                      + "last_order_at, tag, consent, bought_at_location, abandoned_cart or stage")
            }
        }

        private func fields(of value: JSONValue, _ path: String, allowed: Set<String>) throws(ValidationError) -> [String: JSONValue] {
            guard case .object(let members, let order) = value else { throw ValidationError(field: path, detail: "must be an object") }
            if let unknown = order.first(where: { !allowed.contains($0) }) {
                throw ValidationError(field: "\(path).\(unknown)", detail: "is not one of \(allowed.sorted().joined(separator: ", "))")
            }
            return members.filter { $0.value != .null }
        }

        private func target(_ object: [String: JSONValue], _ path: String, kinds: [String]) throws(ValidationError) -> Target {
            let given = kinds.filter { object[$0] != nil }
            guard given.count == 1, let kind = given.first, let value = object[kind] else {
                throw ValidationError(field: path, detail: "needs exactly one of \(kinds.joined(separator: ", "))")
            }
            let name = try text(value, "\(path).\(kind)", max: 200)
            switch kind {
            case "sku": return .sku(name)
            case "product_id": return .product(name)
            default: return .category(name)
            }
        }

        private func text(_ value: JSONValue, _ path: String, max: Int) throws(ValidationError) -> String {
            guard case .string(let text) = value, !text.isEmpty, text.unicodeScalars.count <= max else {
                throw ValidationError(field: path, detail: "must be a string of 1 to \(max) characters")
            }
            return text
        }

        private func integer(_ value: JSONValue?, _ path: String) throws(ValidationError) -> Int? {
            guard let value else { return nil }
            guard case .integer(let number) = value, number >= 0, number <= Int64(Int32.max) else {
                throw ValidationError(field: path, detail: "must be a whole number, 0 or more")
            }
            return Int(number)
        }

        private func money(_ value: JSONValue?, _ path: String) throws(ValidationError) -> Int64? {
            guard let value else { return nil }
            guard case .object(let members, _) = value, case .integer(let amount)? = members["amount"], members.count == 2,
                  case .string(let code)? = members["currency"] else {
                throw ValidationError(field: path, detail: "must be Money: {\"amount\": 5000, \"currency\": \"\(currency.code)\"}")
            }
            guard code == currency.code else {
                throw ValidationError(field: "\(path).currency", detail: "must be \(currency.code), the currency customer stats are kept in")
            }
            return amount
        }

        private func time(_ value: JSONValue?, _ path: String) throws(ValidationError) -> String? {
            guard let value else { return nil }
            guard case .string(let text) = value, SegmentFilter.relativeSeconds(text) != nil || Timestamp.isValid(text) else {
                throw ValidationError(field: path, detail: "must be an RFC 3339 time or relative to now, such as -30d, -12h or -2w")
            }
            return text
        }
    }
}
