import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Integrator webhooks over the outbound HTTP client: a POST with the signed headers the delivery
/// service made, and the answer (or why there was none) for its rules.
struct HTTPWebhookClient: WebhookClient {
    let client: HTTPClient

    func post(url: String, headers: [(name: String, value: String)], body: [UInt8]) async -> WebhookResponse {
        do {
            var fields = HTTPFields()
            for header in headers {
                guard let name = HTTPField.Name(header.name) else { return .failed("invalid header name \(header.name)", permanent: true) }
                fields.append(HTTPField(name: name, value: header.value))
            }
            let response = try await client.execute(HTTPClientRequest(method: .post, url: try HTTPClientURL(url), headerFields: fields, body: body))
            return .answered(status: response.statusCode, excerpt: HTTPDeliveryOutcome.excerpt(response, limit: WebhookAttempt.excerptLimit),
                             retryAfter: HTTPDeliveryOutcome.retryAfter(response))
        } catch {
            return .failed(error.description, permanent: HTTPDeliveryOutcome.isFinal(error))
        }
    }
}
