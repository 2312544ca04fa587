public import Logging
public import ShopfloorDomain
public import ShopfloorTransport

/// What travels with a request through middleware to its handler.
public struct RequestContext: Sendable {
    /// The request's id: the client's `X-Request-Id` when it is sane, else a random one.
    public var requestID: String
    /// Path parameters by name, percent-decoded (`/v1/products/{id}` → `["id": …]`).
    public var parameters: [String: String]
    /// The server's logger; its lines carry the request's id (``RequestLogMetadata``).
    public var logger: Logger
    /// The authenticated key, when the request carried a valid one.
    public var principal: Principal?
    /// The signed-in shopper, when the request carried a valid customer token (`cst_…`) instead of a key.
    public var customer: CustomerID?
    /// The staff session's cookie token, when the principal came from one rather than a key.
    public var sessionToken: String?
    /// The client's address: the peer, or what a trusted proxy says (``ClientAddressResolver``).
    public var clientAddress: IPAddress?
    /// The route the request matched (its pattern, such as `/v1/carts/{id}`), `nil` for none.
    public var route: Router.Route?
    /// What the router found, for the end of the middleware chain.
    var match: Router.Match?

    public init(requestID: String = "", parameters: [String: String] = [:], logger: Logger) {
        self.requestID = requestID
        self.parameters = parameters
        self.logger = logger
    }

    /// The caller, who must hold one of `roles`: 401 without a key, 403 with a key of another role.
    @discardableResult
    public func require(_ roles: Role...) throws(APIError) -> Principal {
        guard let principal else { throw .unauthorized }
        guard roles.contains(principal.role) else { throw .forbidden(required: roles) }
        return principal
    }

    /// Whether a customer this request names on a cart is vouched for: by an admin or pos key, or by
    /// the signed-in shopper naming themselves (routes refuse them naming anyone else). A storefront
    /// key or no key is anyone who holds the cart's id.
    public var vouchesForCustomer: Bool {
        customer != nil || principal?.role == .admin || principal?.role == .pos
    }

    /// The signed-in shopper: 401 without a customer token (an API key is not one).
    public func requireCustomer() throws(APIError) -> CustomerID {
        guard let customer else { throw .unauthorized }
        return customer
    }
}
