/// A member the API always writes, as `null` when it has no value (API.md's resources list every
/// member). A plain optional is left out when `nil`, since a synthesized `Encodable` uses
/// `encodeIfPresent` for it; this wrapper is not optional itself, so it is always encoded, and writes
/// `null` for `nil`. DTOs mark such members `@Nullable` instead of writing `encode(to:)` by hand.
@propertyWrapper
struct Nullable<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = wrappedValue {
            try container.encode(value)
        } else {
            try container.encodeNil()
        }
    }
}

extension Nullable: Sendable where Value: Sendable {}
