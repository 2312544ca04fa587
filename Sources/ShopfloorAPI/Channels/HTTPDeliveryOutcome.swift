import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// How an HTTP answer or failure reads for the outbox, the same for every channel that goes over
/// HTTP (SMS gateways, push services): 2xx sent; 408, 429 and 5xx worth another try (not before
/// `Retry-After`); other answers final. A request that never reached a server is retried when the
/// cause can pass (a timeout, a refused or reset connection, a TLS failure) and final when it cannot
/// (an address the policy refuses, a URL or header that cannot be sent).
enum HTTPDeliveryOutcome {
    static func result(_ response: HTTPClientResponse, detail: String) -> DeliveryResult {
        switch response.statusCode {
        case 200..<300: .sent(detail)
        case 408, 429, 500...: .temporary("HTTP \(response.statusCode)", retryAfter: retryAfter(response))
        default: .permanent("HTTP \(response.statusCode)")
        }
    }

    static func result(_ error: HTTPClientError) -> DeliveryResult {
        isFinal(error) ? .permanent(error.description) : .temporary(error.description, retryAfter: nil)
    }

    /// Whether trying again later cannot help.
    static func isFinal(_ error: HTTPClientError) -> Bool {
        switch error {
        case .invalidURL, .invalidRequest, .addressRefused: true
        default: false
        }
    }

    /// `Retry-After` in seconds (RFC 9110 §10.2.3); the HTTP-date form, which receivers rarely send,
    /// is read as no floor, so the schedule alone decides.
    static func retryAfter(_ response: HTTPClientResponse) -> Duration? {
        guard let value = response.headerFields[.retryAfter], value.utf8.count <= 10, let seconds = Int(value), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }

    /// The start of a response body as text, for logs and delivery records.
    static func excerpt(_ response: HTTPClientResponse, limit: Int = 1_024) -> String {
        String(decoding: response.body.prefix(limit), as: UTF8.self)
    }
}
