/// Where the answers of requests made with an idempotency key are kept, by scope and key, with the
/// fingerprint of the request that made them, so a repeat gets the first answer and changes nothing.
public protocol IdempotencyStore: Sendable {
    /// The stored answer for `key` in `scope`, from the last commit.
    func answer(scope: String, key: String) throws -> StoredAnswer?
    /// Stores the answer in the transaction that made the change it reports; a key already stored in
    /// `scope` throws ``StoreError/duplicate(constraint:)`` (a concurrent duplicate got there first).
    func save(_ answer: StoredAnswer, scope: String, key: String, at: String, in transaction: any WriteTransaction) throws
}

/// A first answer, as kept for the repeats of its request.
public struct StoredAnswer: Sendable, Equatable {
    /// The answer, encoded as it is decoded for a repeat.
    public var body: [UInt8]
    /// The HTTP status it was given with.
    public var status: Int
    /// The fingerprint of the request that got it (``IdempotentRequest/fingerprint``); empty for answers
    /// stored before fingerprints were kept, which any request with the key matches.
    public var fingerprint: [UInt8]

    public init(body: [UInt8], status: Int, fingerprint: [UInt8]) {
        self.body = body
        self.status = status
        self.fingerprint = fingerprint
    }
}
