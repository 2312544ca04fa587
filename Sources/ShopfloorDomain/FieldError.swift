/// One failing field of a request, named by its JSON path (`variants[0].price.amount`).
public struct FieldError: Error, Sendable, Codable, Equatable {
    public var field: String
    public var detail: String

    public init(field: String, detail: String) {
        self.field = field
        self.detail = detail
    }
}

/// Input that is well-formed but unacceptable; every failing field is listed, nothing is stored.
public struct ValidationError: Error, Sendable, Equatable {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) {
        self.errors = errors
    }

    public init(field: String, detail: String) {
        errors = [FieldError(field: field, detail: detail)]
    }
}

/// Collects field errors while checking input, then throws them together.
struct Validator {
    private(set) var errors: [FieldError] = []

    mutating func check(_ condition: Bool, _ field: String, _ detail: @autoclosure () -> String) {
        if !condition { errors.append(FieldError(field: field, detail: detail())) }
    }

    /// Text of 1...`max` characters, or of up to `max` when `optional`, without control characters.
    mutating func text(_ value: String?, _ field: String, max: Int, required: Bool = true) {
        guard let value else {
            check(!required, field, "is required")
            return
        }
        check(!required || !value.allSatisfy(\.isWhitespace), field, "must not be empty")
        check(value.unicodeScalars.count <= max, field, "must be at most \(max) characters")
        check(!value.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" || $0.value == 0x7F }, field,
              "must not contain control characters")
    }

    func throwIfAny() throws(ValidationError) {
        if !errors.isEmpty { throw ValidationError(errors) }
    }
}
