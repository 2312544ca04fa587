import Foundation
import HTTPTypes
public import ShopfloorDomain
import ShopfloorJSON
public import ShopfloorTransport

/// An RFC 9457 problem details body, the one shape every error response has.
///
/// This file is the only place that maps errors to HTTP: each error enum is switched over exhaustively,
/// so a new case does not compile until it has a status and a stable `code` (API.md).
public struct Problem: Error, Sendable, Encodable {
    public var type = "about:blank"
    public var title: String
    public var status: Int
    public var detail: String
    public var code: String
    public var errors: [FieldError]?
    /// Units free now, with `insufficient_stock`.
    public var available: Int?
    /// Why a discount code or a payment was refused (`min_subtotal`, `card_declined`, …).
    public var reason: String?
    /// What an expired cart is short of, SKU by SKU, when completing it.
    public var missing: [CheckoutError.Shortage]?
    /// The order a cart already became.
    public var orderID: String?
    /// The customer that already has an email or phone.
    public var customerID: String?
    /// `false` when a shopper the shop wants to reach has no socket open.
    public var live: Bool?
    /// Which limit a 409, 413 or 429 is for (`address`, `key`, `sensitive`, `connections_per_address`,
    /// `open_carts_per_address`, `units_per_sku`, `cart_hold`, `json_depth`, `json_string_bytes`,
    /// `json_members`, `json_number_length`, `json_number_range`), with its value in `max` where it is a count.
    public var limit: String?
    public var max: Int?
    /// Extra response fields, such as `Allow` or `Retry-After`.
    var headers: [(HTTPField.Name, String)] = []

    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    static let rateLimit = HTTPField.Name("RateLimit")!

    enum CodingKeys: String, CodingKey { case type, title, status, detail, code, errors, available, reason, missing, orderID = "order_id", customerID = "customer_id", live, limit, max }

    init(status: HTTPResponse.Status, code: String, detail: String, errors: [FieldError]? = nil) {
        title = status.reasonPhrase
        self.status = status.code
        self.code = code
        self.detail = detail
        self.errors = errors
    }

    /// The problem for any error; unknown errors become an opaque 500.
    public init(_ error: any Error) {
        switch error {
        case let problem as Problem: self = problem
        case let error as APIError: self = Problem(error)
        case let error as HTTPTransportError: self = Problem(error)
        case let error as ValidationError:
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The request is not valid.", errors: error.errors)
        case let error as JSONParser.Failure: self = Problem(error)
        case let error as DecodingError:
            self = Problem(error)
        case let error as CatalogueError: self = Problem(error)
        case let error as InventoryError: self = Problem(error)
        case let error as LocationError: self = Problem(error)
        case let error as AuthError: self = Problem(error)
        case let error as CartError: self = Problem(error)
        case let error as CheckoutError: self = Problem(error)
        case let error as PaymentWebhook.Failure: self = Problem(error)
        case let error as POSHandover.Failure: self = Problem(error)
        case let error as IdempotencyError: self = Problem(error)
        case let error as MessageError: self = Problem(error)
        case let error as WebhookError: self = Problem(error)
        case let error as CustomerError: self = Problem(error)
        case let error as ShopperError: self = Problem(error)
        case let error as AutomationError: self = Problem(error)
        case let error as ReplenishmentError: self = Problem(error)
        case let error as WebSocketHandshakeError: self = Problem(error)
        default: self = Problem(status: .internalServerError, code: "internal_error", detail: "An unexpected error occurred.")
        }
    }

    init(_ error: APIError) {
        switch error {
        case .notFound(let path):
            self = Problem(status: .notFound, code: "not_found", detail: "No resource at \(path).")
        case .methodNotAllowed(let allowed):
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            self = Problem(status: .methodNotAllowed, code: "invalid_request", detail: "Allowed methods: \(list).")
            headers = [(.allow, list)]
        case .invalidRequest(let detail):
            self = Problem(status: .badRequest, code: "invalid_request", detail: detail)
        case .validationFailed(let errors):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The request body is not valid.", errors: errors)
        case .unavailable(let detail):
            self = Problem(status: .serviceUnavailable, code: "unavailable", detail: detail)
            headers = [(.retryAfter, "1")]
        case .unauthorized:
            self = Problem(status: .unauthorized, code: "unauthorized", detail: "A valid API key is required: Authorization: Bearer <key>.")
            headers = [(.wwwAuthenticate, "Bearer")]
        case .forbidden(let roles):
            self = Problem(status: .forbidden, code: "forbidden", detail: "This needs a key with role \(roles.map(\.rawValue).joined(separator: " or ")).")
        case .csrfTokenMissing:
            self = Problem(status: .forbidden, code: "forbidden", detail: "A write on a session cookie needs its X-CSRF-Token header.")
        case .unsupportedMediaType:
            self = Problem(status: .unsupportedMediaType, code: "invalid_request", detail: "The body must be application/json.")
        case .missing(let detail):
            self = Problem(status: .notFound, code: "not_found", detail: detail)
        case .rateLimited(let policy, let rate, let seconds):
            self = Problem(status: .tooManyRequests, code: "rate_limited",
                           detail: "Too many requests (\(policy) limit \(rate)): try again in \(seconds) s.")
            limit = policy
            // RateLimit header fields as the IETF httpapi draft has them: the policy, and what is left.
            headers = [(.retryAfter, String(seconds)), (Self.rateLimitPolicy, "\"\(policy)\";q=\(rate.burst);w=\(rate.window)"),
                       (Self.rateLimit, "\"\(policy)\";r=0;t=\(seconds)")]
        case .tooManyOpenCarts(let max):
            self = Problem(status: .tooManyRequests, code: "rate_limited",
                           detail: "This address holds \(max) open carts already: complete or delete one, or let one expire.")
            headers = [(.retryAfter, "60")]
            limit = "open_carts_per_address"
            self.max = max
        }
    }

    /// A body the JSON parser refused: past one of its limits (a number no double holds among them),
    /// 413 naming the limit in `limit` and its value in `max`; otherwise not JSON at all, 400.
    init(_ failure: JSONParser.Failure) {
        let limits = JSONParser.Limits()
        let (name, max, what): (String, Int, String)
        switch failure.reason {
        case .tooDeep: (name, max, what) = ("json_depth", limits.maxDepth, "nests deeper than \(limits.maxDepth) levels")
        case .stringTooLong: (name, max, what) = ("json_string_bytes", limits.maxStringBytes, "has a string longer than \(limits.maxStringBytes) bytes")
        case .tooManyMembers: (name, max, what) = ("json_members", limits.maxMembers, "has more than \(limits.maxMembers) values")
        case .numberTooLong:
            (name, max, what) = ("json_number_length", JSONParser.Limits.maxNumberLength,
                                 "has a number longer than \(JSONParser.Limits.maxNumberLength) characters")
        case .numberOutOfRange:
            self = Problem(status: .contentTooLarge, code: "payload_too_large",
                           detail: "The body has a number beyond the range of a double (at byte \(failure.offset)).")
            limit = "json_number_range"
            return
        case .unexpectedEnd, .unexpectedCharacter, .invalidUTF8, .invalidEscape, .invalidNumber, .duplicateKey, .trailingData:
            self = Problem(status: .badRequest, code: "invalid_request", detail: "The body is not valid JSON: \(failure).")
            return
        }
        self = Problem(status: .contentTooLarge, code: "payload_too_large", detail: "The body \(what) (at byte \(failure.offset)).")
        limit = name
        self.max = max
    }

    /// A body that parsed as JSON but does not fit the expected shape: the failing field by its path.
    init(_ error: DecodingError) {
        let (path, detail): ([any CodingKey], String) = switch error {
        case .keyNotFound(let key, let context): (context.codingPath + [key], "is required")
        case .typeMismatch(let type, let context): (context.codingPath, "must be \(Problem.describe(type))")
        case .valueNotFound(let type, let context): (context.codingPath, "must be \(Problem.describe(type)), not null")
        case .dataCorrupted(let context):
            // Foundation's text for an unknown enum value names Swift types; say what the client needs.
            (context.codingPath, context.debugDescription.hasPrefix("Cannot initialize") ? "is not one of the allowed values" : context.debugDescription)
        @unknown default: ([], "is not valid")
        }
        self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The request is not valid.",
                       errors: [FieldError(field: Problem.fieldPath(path), detail: detail)])
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: "of type \(type)".replacingOccurrences(of: "Swift.", with: "")
        }
    }

    /// `variants[0].price.amount` from a coding path, in the API's snake_case.
    static func fieldPath(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                if !out.isEmpty { out += "." }
                out += JSONCoding.snakeCase(key.stringValue)
            }
        }
        return out
    }

    init(_ error: CustomerError) {
        switch error {
        case .notFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No customer \(id).")
        case .segmentNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No segment \(id).")
        case .duplicate(let field, let customerID):
            self = Problem(status: .conflict, code: "conflict", detail: "Another customer has this \(field).")
            self.customerID = customerID.rawValue
        case .bothHaveAccounts:
            self = Problem(status: .conflict, code: "conflict",
                           detail: "Both customers have signed in with accounts of their own; customers with two accounts are not merged.")
        case .erased(let id): self = Problem(status: .conflict, code: "conflict", detail: "Customer \(id) was erased and takes no changes.")
        case .codeRejected:
            self = Problem(status: .unauthorized, code: "unauthorized", detail: "The code is wrong, expired or used up: ask for a new one.")
        case .sessionInvalid:
            self = Problem(status: .unauthorized, code: "unauthorized", detail: "The customer token is unknown, expired or signed out.")
            headers = [(.wwwAuthenticate, "Bearer")]
        case .notYours: self = Problem(status: .forbidden, code: "forbidden", detail: "This belongs to another customer.")
        }
    }

    init(_ error: ShopperError) {
        switch error {
        case .unknownVisitor(let id): self = Problem(status: .notFound, code: "not_found", detail: "No visitor \(id) was ever seen.")
        case .notLive(let id):
            self = Problem(status: .conflict, code: "conflict", detail: "Visitor \(id) is not on the shop now: reach them through another channel.")
            live = false
        case .conversationNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No conversation \(id).")
        case .unknownProduct(let id):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The request is not valid.",
                           errors: [FieldError(field: "data.product_id", detail: "names no product: \(id.prefix(64))")])
        case .noCart: self = Problem(status: .conflict, code: "conflict", detail: "The shopper has no active cart to apply the offer to.")
        case .offerRejected(let why): self = Problem(status: .unprocessableContent, code: "offer_rejected", detail: why)
        }
    }

    init(_ error: ReplenishmentError) {
        switch error {
        case .proposalNotFound: self = Problem(status: .notFound, code: "not_found", detail: "No such proposal: the link is wrong or not this shop's.")
        case .decided(let status): self = Problem(status: .conflict, code: "conflict", detail: "The proposal is \(status.rawValue) already.")
        case .stockShort(let shortages):
            let list = shortages.map { "\($0.sku) (\($0.available) of \($0.requested))" }.joined(separator: ", ")
            self = Problem(status: .conflict, code: "insufficient_stock", detail: "Some items ran out since the proposal was made: \(list).")
            available = shortages.first?.available
            missing = shortages
        case .cannotConfirm(let why): self = Problem(status: .conflict, code: "conflict", detail: "The proposal cannot be confirmed: \(why).")
        }
    }

    init(_ error: AutomationError) {
        switch error {
        case .flowNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No flow \(id).")
        case .runNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No flow run \(id).")
        case .taskNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No task \(id).")
        case .campaignNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No campaign \(id).")
        }
    }

    init(_ error: WebhookError) {
        switch error {
        case .endpointNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No webhook endpoint \(id).")
        case .deliveryNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No delivery \(id) for this endpoint.")
        case .privateTarget(let host):
            self = Problem(status: .unprocessableContent, code: "invalid_request",
                           detail: "Webhooks may not call private, loopback or link-local addresses unless the server allows them.",
                           errors: [FieldError(field: "url", detail: "names \(host), a private, loopback or link-local address")])
        }
    }

    init(_ error: MessageError) {
        switch error {
        case .notFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No message \(id).")
        case .suppressionNotFound(let address, let channel):
            self = Problem(status: .notFound, code: "not_found", detail: "\(address) is not suppressed on \(channel.rawValue).")
        case .unknownTemplate(let name):
            self = Problem(status: .notFound, code: "not_found",
                           detail: "No template \(name): templates are \(MessageTemplates.names.joined(separator: ", ")).")
        case .invalidTemplate(let detail):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The template is not valid.",
                           errors: [FieldError(field: "template", detail: detail)])
        case .notRetryable(let id, let status):
            self = Problem(status: .conflict, code: "conflict", detail: "Message \(id) is \(status.rawValue); only failed or skipped messages are retried.")
        }
    }

    init(_ error: CatalogueError) {
        switch error {
        case .productNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No product \(id).")
        case .duplicateSKU(let detail): self = Problem(status: .conflict, code: "conflict", detail: "A variant with this SKU already exists (\(detail)).")
        case .duplicateBarcode(let detail): self = Problem(status: .conflict, code: "conflict", detail: "A variant with this barcode already exists (\(detail)).")
        case .productInUse(let id): self = Problem(status: .conflict, code: "conflict", detail: "Product \(id) has units reserved in carts.")
        }
    }

    init(_ error: InventoryError) {
        switch error {
        case .unknownSKU(let sku): self = Problem(status: .notFound, code: "not_found", detail: "No variant with SKU \(sku).")
        case .unknownLocation(let location): self = Problem(status: .notFound, code: "not_found", detail: "No location \(location).")
        case .belowReserved(let sku, let location, let reserved, let onHand):
            self = Problem(status: .conflict, code: "conflict",
                           detail: "\(sku) at \(location) would have \(onHand) on hand with \(reserved) reserved.")
        case .otherLocation(let location):
            self = Problem(status: .forbidden, code: "forbidden", detail: "This key may only change stock at its own location, not \(location).")
        case .insufficientStock(let sku, let available):
            self = Problem(status: .conflict, code: "insufficient_stock", detail: "Only \(available) of \(sku) available.")
            self.available = available
        }
    }

    init(_ error: CartError) {
        switch error {
        case .notFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No cart \(id).")
        case .lineNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No line \(id) in this cart.")
        case .closed(let id, let status): self = Problem(status: .conflict, code: "conflict", detail: "Cart \(id) is \(status.rawValue).")
        case .currencyMismatch(let sku, let cart, let price):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The request is not valid.",
                           errors: [FieldError(field: "sku", detail: "\(sku) is priced in \(price), the cart in \(cart)")])
        case .notForSale(let sku):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The request is not valid.",
                           errors: [FieldError(field: "sku", detail: "\(sku) is not for sale")])
        case .tooManyUnits(let sku, let max):
            self = Problem(status: .conflict, code: "conflict", detail: "An online cart holds at most \(max) units of one SKU (\(sku)).")
            limit = "units_per_sku"
            self.max = max
        case .holdEnded(let id, let maxHold):
            self = Problem(status: .conflict, code: "conflict",
                           detail: "Cart \(id) has held stock for the longest a cart may (\(maxHold.components.seconds / 60) min): start a new cart.")
            limit = "cart_hold"
        }
    }

    init(_ error: IdempotencyError) {
        switch error {
        case .keyReused(let key):
            self = Problem(status: .unprocessableContent, code: "invalid_request",
                           detail: "The Idempotency-Key \(key) was used before with a different request; send a new key with a new request.")
        }
    }

    init(_ error: CheckoutError) {
        switch error {
        case .notFound(let what): self = Problem(status: .notFound, code: "not_found", detail: "No \(what).")
        case .duplicate(let what): self = Problem(status: .conflict, code: "conflict", detail: "Already there: \(what).")
        case .discountRejected(let code, let reason):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The discount code \(code) does not apply: \(reason.rawValue).",
                           errors: [FieldError(field: "discount_codes", detail: "\(code): \(reason.rawValue)")])
            self.reason = reason.rawValue
        case .shippingUnavailable(let detail):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The shipping method does not apply.",
                           errors: [FieldError(field: "shipping_method", detail: detail)])
        case .incomplete(let errors):
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "The cart is not ready to complete.", errors: errors)
        case .stockGone(let shortages):
            let list = shortages.map { "\($0.sku) (\($0.available) of \($0.requested))" }.joined(separator: ", ")
            self = Problem(status: .conflict, code: "insufficient_stock", detail: "The cart expired and its stock is gone: \(list).")
            available = shortages.first?.available
            missing = shortages
        case .paymentDeclined(let reason):
            self = Problem(status: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), code: "payment_declined", detail: "The payment was declined (\(reason)); the cart is unchanged.")
            self.reason = reason
        case .paymentNotAllowed(let detail):
            self = Problem(status: .forbidden, code: "forbidden", detail: "Not allowed: \(detail).")
        case .alreadyCompleted(let order):
            self = Problem(status: .conflict, code: "conflict", detail: "The cart was completed already, as order \(order).")
            orderID = order
        case .heldMismatch(let sku):
            self = Problem(status: .conflict, code: "conflict", detail: "The cart's reservations of \(sku) do not match its line; update the line and retry.")
        case .invalidTransition(let from, let to):
            self = Problem(status: .conflict, code: "invalid_transition",
                           detail: "An order cannot go from \(from.rawValue) to \(to.rawValue); from \(from.rawValue) it may go to "
                               + (from.next.isEmpty ? "nothing" : from.next.map(\.rawValue).sorted().joined(separator: ", ")) + ".")
        }
    }

    init(_ error: PaymentWebhook.Failure) {
        switch error {
        case .missingSignature:
            self = Problem(status: .unauthorized, code: "unauthorized", detail: "Shopfloor-Signature (t=<unix time>,v1=<hex HMAC-SHA256>) is required.")
            // RFC 9110 §15.5.2: a 401 names its scheme; here the body's signature, not a key.
            headers = [(.wwwAuthenticate, "Shopfloor-Signature")]
        case .badSignature:
            self = Problem(status: .unauthorized, code: "unauthorized", detail: "The signature does not match the body.")
            headers = [(.wwwAuthenticate, "Shopfloor-Signature")]
        case .stale:
            self = Problem(status: .badRequest, code: "invalid_request", detail: "The signature's timestamp is too old or in the future (replays are refused).")
        case .malformed(let detail):
            self = Problem(status: .badRequest, code: "invalid_request", detail: "The notice is not valid: \(detail).")
        case .unknownPayment(let id):
            self = Problem(status: .notFound, code: "not_found", detail: "No payment \(id).")
        }
    }

    init(_ error: POSHandover.Failure) {
        switch error {
        case .refused:
            self = Problem(status: .conflict, code: "conflict", detail: "The PIN is wrong, used or expired.")
        case .tooManyWrongPINs(let seconds):
            self = Problem(status: .tooManyRequests, code: "rate_limited",
                           detail: "Too many wrong PINs from this till: try again in \(seconds) s.")
            headers = [(.retryAfter, String(seconds))]
        }
    }

    init(_ error: LocationError) {
        switch error {
        case .duplicateCode(let code): self = Problem(status: .conflict, code: "conflict", detail: "A location with code \(code) exists.")
        case .notFound(let code): self = Problem(status: .notFound, code: "not_found", detail: "No location \(code).")
        }
    }

    init(_ error: AuthError) {
        switch error {
        case .invalidKey: self = Problem(.unauthorized)
        case .keyNotFound(let id): self = Problem(status: .notFound, code: "not_found", detail: "No active API key \(id).")
        case .locationRequired:
            self = Problem(status: .unprocessableContent, code: "invalid_request", detail: "A pos key needs a location; other keys take none.",
                           errors: [FieldError(field: "location", detail: "is required for pos keys and not allowed otherwise")])
        }
    }

    init(_ error: WebSocketHandshakeError) {
        switch error {
        case .notAnUpgrade:
            self = Problem(status: .upgradeRequired, code: "invalid_request",
                           detail: "This endpoint speaks WebSocket: send GET with Upgrade: websocket and Connection: Upgrade.")
            headers = [(.upgrade, "websocket"), (.connection, "Upgrade")]
        case .unsupportedVersion:
            self = Problem(status: .upgradeRequired, code: "invalid_request", detail: "Only WebSocket version 13 is spoken here.")
            headers = [(.secWebSocketVersion, "13")]
        case .invalidKey:
            self = Problem(status: .badRequest, code: "invalid_request", detail: "Sec-WebSocket-Key must be the base64 of 16 bytes.")
        }
    }

    init(_ error: HTTPTransportError) {
        switch error {
        case .tooManyConnections:
            self = Problem(status: .serviceUnavailable, code: "unavailable", detail: "The server is at its connection limit.")
            headers = [(.retryAfter, "1")]
        case .tooManyConnectionsFromAddress:
            self = Problem(status: .tooManyRequests, code: "rate_limited", detail: "Too many open connections from this address.")
            limit = "connections_per_address"
            headers = [(.retryAfter, "1")]
        case .requestTimeout:
            self = Problem(status: .requestTimeout, code: "invalid_request", detail: "The request was not received in time.")
        case .parse(let parse):
            switch parse {
            case .requestLineTooLong(let limit):
                self = Problem(status: .uriTooLong, code: "invalid_request", detail: "The request line is longer than \(limit) bytes.")
            case .headersTooLarge(let limit):
                self = Problem(status: .requestHeaderFieldsTooLarge, code: "invalid_request", detail: "The header section is larger than \(limit) bytes.")
            case .tooManyHeaders(let limit):
                self = Problem(status: .requestHeaderFieldsTooLarge, code: "invalid_request", detail: "More than \(limit) header fields.")
            case .bodyTooLarge(let limit):
                self = Problem(status: .contentTooLarge, code: "payload_too_large", detail: "The body is larger than \(limit) bytes.")
            case .malformedRequestLine:
                self = Problem(status: .badRequest, code: "invalid_request", detail: "Malformed request line.")
            case .malformedHeader:
                self = Problem(status: .badRequest, code: "invalid_request", detail: "Malformed header field.")
            case .invalidHost:
                self = Problem(status: .badRequest, code: "invalid_request", detail: "HTTP/1.1 requires exactly one Host field.")
            case .invalidContentLength:
                self = Problem(status: .badRequest, code: "invalid_request", detail: "Invalid Content-Length.")
            case .conflictingFraming:
                self = Problem(status: .badRequest, code: "invalid_request", detail: "Both Content-Length and Transfer-Encoding were sent.")
            case .unsupportedTransferEncoding:
                self = Problem(status: .notImplemented, code: "invalid_request", detail: "Only the chunked transfer coding is supported.")
            case .invalidChunk:
                self = Problem(status: .badRequest, code: "invalid_request", detail: "Malformed chunked body.")
            case .unsupportedVersion:
                self = Problem(status: .httpVersionNotSupported, code: "invalid_request", detail: "Only HTTP/1.0 and HTTP/1.1 are supported.")
            case .unsupportedExpectation:
                self = Problem(status: .expectationFailed, code: "invalid_request", detail: "Only Expect: 100-continue is supported.")
            }
        }
    }

    /// The `application/problem+json` response.
    public func response() -> HTTPServerResponse {
        var fields: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in headers { fields.append(HTTPField(name: name, value: value)) }
        let body = (try? JSON.encode(self)) ?? Array(#"{"title":"Internal Server Error","status":500}"#.utf8)
        return HTTPServerResponse(status: HTTPResponse.Status(code: status, reasonPhrase: title), headerFields: fields, body: .bytes(body))
    }
}
