/// Where the answers of requests made with an `Idempotency-Key` are kept, by scope and key, so a
/// repeat gets the first answer and changes nothing.
public protocol IdempotencyStore: Sendable {
    /// The stored answer for `key` in `scope`, if any.
    func answer(scope: String, key: String) throws -> [UInt8]?
    /// Stores the answer in the transaction that made the change it reports; a key already stored in
    /// `scope` throws ``StoreError/duplicate(constraint:)`` (a concurrent duplicate got there first).
    func save(_ answer: [UInt8], status: Int, scope: String, key: String, at: String, in transaction: any WriteTransaction) throws}
