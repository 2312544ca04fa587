/// What the outbox refuses; the API maps each case to its problem+json answer.
public enum MessageError: Error, Equatable {
    case notFound(String)
    /// No suppression of this address on this channel.
    case suppressionNotFound(address: String, channel: MessageChannel)
    case unknownTemplate(String)
    /// A template that does not compile; the detail says which part and why.
    case invalidTemplate(String)
    /// A retry of a message that is not failed or skipped.
    case notRetryable(id: String, status: MessageStatus)
}
