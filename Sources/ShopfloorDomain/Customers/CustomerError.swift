/// Why a customer, segment or shopper sign-in request was refused.
public enum CustomerError: Error, Equatable {
    case notFound(String)
    case segmentNotFound(String)
    /// Another customer already has this email or phone (`field`).
    case duplicate(field: String, customerID: CustomerID)
    /// Both customers of a merge have signed in: each has an account of their own.
    case bothHaveAccounts
    /// The customer's data was erased; the record only keeps the books.
    case erased(CustomerID)
    /// A sign-in code that is wrong, expired, used up or locked after too many tries.
    case codeRejected
    /// A customer token that is unknown, expired or signed out.
    case sessionInvalid
    /// A customer token used on another customer's cart or data.
    case notYours
}
