import ShopfloorJSON
/// A request that may be repeated: the client's key and a fingerprint of what it asked (the API
/// layer hashes its method, path and body), so a key sent again with another request is told apart.
public struct IdempotentRequest: Sendable, Equatable {
    public var key: String
    public var fingerprint: [UInt8]

    public init(key: String, fingerprint: [UInt8]) {
        self.key = key
        self.fingerprint = fingerprint
    }
}

/// Why a request with an idempotency key was refused.
public enum IdempotencyError: Error, Equatable {
    /// The key was used before with a different request.
    case keyReused(String)
}

/// The one way a change is made at most once per idempotency key: checkout completion, stock
/// adjustments and payment notices all go through it.
///
/// The first request with a key runs its work, which stores its answer (``Recorder``) in the same
/// transaction as its change, so the answer exists exactly when the change does. A repeat of the same
/// request gets that answer back without running anything; the same key with another request is
/// ``IdempotencyError/keyReused(_:)``. A duplicate that arrives while the first is still running waits
/// for it (one lock per scope and key) and then gets its answer. A duplicate from elsewhere (another
/// instance on the same store) loses the race at the store's uniqueness rule and reads the winner's answer.
/// A request whose work fails stores nothing, so its retry runs again.
public final class Idempotency: Sendable {
    private let store: any IdempotencyStore
    private let clock: any WallClock
    private let running = KeyedLock()

    public init(stores: Stores, clock: any WallClock = SystemClock()) {
        store = stores.idempotency
        self.clock = clock
    }

    /// Stores the answer of a first request inside its work's transaction.
    public struct Recorder<Answer: Codable & Sendable>: Sendable {
        let store: any IdempotencyStore
        let scope: String
        let request: IdempotentRequest
        let status: Int
        let at: String

        /// Stores `answer` in `transaction`.
        public func record(_ answer: Answer, in transaction: any WriteTransaction) throws {
            try store.save(StoredAnswer(body: try JSONCoding.encode(answer), status: status, fingerprint: request.fingerprint),
                           scope: scope, key: request.key, at: at, in: transaction)
        }
    }

    /// Runs `work` once for `request` in `scope` (every time when `request` is `nil`, with no recorder);
    /// `status` is what the answer is given with.
    public func perform<Answer: Codable & Sendable>(
        _ request: IdempotentRequest?, scope: String, status: Int = 200,
        _ work: @Sendable (Recorder<Answer>?) async throws -> Answer
    ) async throws -> Answer {
        guard let request else { return try await work(nil) }
        let (store, clock) = (store, clock)
        return try await running.withLock(scope + "\u{0}" + request.key) {
            if let stored = try store.answer(scope: scope, key: request.key) { return try Self.replay(stored, for: request) }
            do {
                return try await work(Recorder(store: store, scope: scope, request: request, status: status, at: clock.timestamp))
            } catch let error as StoreError where error.isDuplicate {
                guard let stored = try store.answer(scope: scope, key: request.key) else { throw error }
                return try Self.replay(stored, for: request)
            }
        }
    }

    private static func replay<Answer: Decodable>(_ stored: StoredAnswer, for request: IdempotentRequest) throws -> Answer {
        guard stored.fingerprint.isEmpty || stored.fingerprint == request.fingerprint else { throw IdempotencyError.keyReused(request.key) }
        // Through the strict parser and the document decoder, as a request body: free JSON inside
        // the answer (a line's customisation) comes back with its keys as stored.
        return try JSONCoding.decode(Answer.self, from: try JSONParser.parse(stored.body))
    }
}
