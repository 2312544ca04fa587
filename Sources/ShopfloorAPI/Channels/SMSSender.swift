import Foundation
import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// SMS through a gateway's HTTP API, no vendor SDK (API.md, Messages): a Twilio-compatible Messages
/// API (a form POST of `To`, `From` and `Body` with basic auth from the URL's user and password), or,
/// with a `whsec_…` secret, a JSON POST `{"id","to","from","text"}` signed as integrator webhooks are,
/// for a gateway of the shop's own. The message id is the `webhook-id`, so a re-send after a crash
/// is recognisable.
struct SMSSender: MessageSender {
    enum Mode: Sendable {
        case twilio(authorization: String?)
        case signedJSON(secret: String)
    }

    enum ConfigurationError: Error, CustomStringConvertible {
        case invalidURL(String)

        var description: String {
            switch self {
            case .invalidURL(let reason): "invalid --sms-url: \(reason)"
            }
        }
    }

    private let client: HTTPClient
    private let url: HTTPClientURL
    private let mode: Mode
    private let from: String?
    private let clock: any WallClock

    /// `url` may carry `user:password@` (Twilio's account SID and token); they become the basic
    /// authorization and are never sent in the URL.
    init(url: String, secret: String?, from: String?, client: HTTPClient, clock: any WallClock) throws {
        guard var components = URLComponents(string: url) else { throw ConfigurationError.invalidURL("not a URL") }
        var authorization: String?
        if let user = components.percentEncodedUser {
            let password = components.percentEncodedPassword ?? ""
            let credentials = (user.removingPercentEncoding ?? user) + ":" + (password.removingPercentEncoding ?? password)
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
            components.percentEncodedUser = nil
            components.percentEncodedPassword = nil
        }
        guard let plain = components.string else { throw ConfigurationError.invalidURL("not a URL") }
        do {
            self.url = try HTTPClientURL(plain)
        } catch {
            throw ConfigurationError.invalidURL(error.description)
        }
        mode = secret.map { .signedJSON(secret: $0) } ?? .twilio(authorization: authorization)
        self.from = from
        self.client = client
        self.clock = clock
    }

    func send(_ message: Message) async -> DeliveryResult {
        var fields = HTTPFields()
        let body: [UInt8]
        switch mode {
        case .twilio(let authorization):
            fields[.contentType] = "application/x-www-form-urlencoded"
            if let authorization { fields[.authorization] = authorization }
            var form = [("To", message.recipient), ("Body", message.text)]
            if let from { form.append(("From", from)) }
            body = Array(form.map { "\(Self.formEncoded($0.0))=\(Self.formEncoded($0.1))" }.joined(separator: "&").utf8)
        case .signedJSON(let secret):
            guard let json = try? JSONCoding.encode(SMSPayload(id: message.id.rawValue, to: message.recipient, from: from, text: message.text)) else {
                return .permanent("the SMS could not be encoded")
            }
            body = json
            let timestamp = Int64(clock.now().timeIntervalSince1970.rounded(.down))
            fields[.contentType] = "application/json"
            fields[HTTPField.Name("webhook-id")!] = message.id.rawValue
            fields[HTTPField.Name("webhook-timestamp")!] = String(timestamp)
            fields[HTTPField.Name("webhook-signature")!] = WebhookSignature.header(id: message.id.rawValue, timestamp: timestamp, body: json, secrets: [secret])
        }
        do {
            let response = try await client.execute(HTTPClientRequest(method: .post, url: url, headerFields: fields, body: body))
            return HTTPDeliveryOutcome.result(response, detail: "HTTP \(response.statusCode) \(HTTPDeliveryOutcome.excerpt(response, limit: 200))")
        } catch {
            return HTTPDeliveryOutcome.result(error)
        }
    }

    /// `application/x-www-form-urlencoded`: unreserved bytes as they are, a space as `+`, the rest %XX.
    static func formEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

/// The JSON body of a signed SMS request.
private struct SMSPayload: Encodable {
    var id: String
    var to: String
    var from: String?
    var text: String
}
