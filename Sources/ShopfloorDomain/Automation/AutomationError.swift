/// What automation refuses, mapped to problem+json in the API's one place.
public enum AutomationError: Error, Equatable {
    case flowNotFound(String)
    case runNotFound(String)
    case taskNotFound(String)
    case campaignNotFound(String)
}
