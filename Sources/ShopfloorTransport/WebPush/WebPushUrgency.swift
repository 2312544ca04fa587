/// How soon a user agent should be woken for a message (RFC 8030 §5.3): a push service may hold back
/// low-urgency messages to save a device's battery. The raw value is the `Urgency` header's.
public enum WebPushUrgency: String, Sendable, CaseIterable {
    case veryLow = "very-low"
    case low
    case normal
    case high
}
