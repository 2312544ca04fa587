import Foundation
public import Logging
public import ShopfloorDomain
public import ShopfloorTransport

/// Everything the service is told at start, from flags or `SHOPFLOOR_*` environment variables.
public struct Configuration: Sendable {
    public var host = "0.0.0.0"
    public var port = 8080
    public var dataDirectory = "./data"
    public var threads = System.coreCount
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var logLevel = Logger.Level.info
    /// `--log-format json`: one JSON object per line (``JSONLogHandler``) instead of text.
    public var logJSON = false
    public var limits = HTTPLimits()
    public var maxConnections = 10_000
    /// Open connections one client address may hold (`--max-connections-per-address`; 0: no cap).
    public var maxConnectionsPerAddress = 256
    /// Requests per client address: anonymous callers, storefront keys and shoppers (`--rate-limit`; `nil`: off).
    public var rateLimit: RateLimit? = RateLimit(count: 50, per: "s", burst: 200)
    /// Requests per staff key, admin or pos (`--key-rate-limit`).
    public var keyRateLimit: RateLimit? = RateLimit(count: 500, per: "s", burst: 1000)
    /// Requests per client address to sign-in, handover PIN and payment webhook routes (`--sensitive-rate-limit`).
    public var sensitiveRateLimit: RateLimit? = RateLimit(count: 30, per: "min", burst: 10)
    /// Proxies whose `Forwarded`/`X-Forwarded-For` name the client (`--trusted-proxies`): loopback by
    /// default, a balancer on the same machine.
    public var trustedProxies: [IPNetwork] = IPNetwork.loopback
    /// Open carts one client address may hold at once, unless staff made them (`--max-open-carts-per-address`).
    public var maxOpenCartsPerAddress = 20
    /// Units of one SKU an online cart may hold (`--max-units-per-sku`); till carts are not capped.
    public var maxUnitsPerSKU = 100
    /// The longest a cart may hold stock, however often it is written (`--max-cart-hold`).
    public var maxCartHold: Duration = .seconds(3 * 3600)
    /// Where `GET /metrics` is also served without a key (`--metrics-listen HOST:PORT`); on the API's
    /// own address it needs an admin key.
    public var metricsListen: (host: String, port: Int)?
    /// How long a graceful stop waits for in-flight requests before closing what remains.
    public var drainTimeout: Duration = .seconds(10)
    /// Serves the echo endpoints used by conformance and lifecycle tests.
    public var enableEcho = false
    /// Serves `/v1/test/clock`, whose offset every service's clock follows: for black-box tests only.
    public var enableTestClock = false
    /// Stocks an empty shop with demo products, UK VAT and shipping at start (`make run` does).
    public var demo = false
    /// Origins whose browser pages may call the API (`--cors-origins`): exact `scheme://host[:port]`,
    /// or `*` for the public reads from anywhere. Empty: no CORS at all.
    public var corsOrigins: Set<String> = []
    /// The admin key to accept, from `SHOPFLOOR_ADMIN_KEY` only (never a flag: flags show in `ps`).
    public var adminKey: String?
    /// The secret a payment processor signs webhooks with, from `SHOPFLOOR_WEBHOOK_SECRET` only; the
    /// `webhook` payment method exists only when it is set.
    public var webhookSecret: String?
    /// How long the event log keeps events; older ones are pruned in the background.
    public var eventRetention: Duration = .seconds(30 * 86_400)
    /// How far back sales count for stock cover (`--cover-window`), in whole days.
    public var coverWindow: Duration = .seconds(28 * 86_400)
    /// When the weekly replenishment run starts, in the shop's time zone (`--replenishment-schedule`).
    public var replenishmentSchedule = WeeklySchedule.mondayMorning
    /// How long a cart's reservations last after its last write.
    public var reservationTTL: Duration = .seconds(15 * 60)
    /// How long a staff session lasts after its last use (`--session-ttl`).
    public var sessionTTL: Duration = StaffSessionService.defaultTTL
    /// The currency of carts that do not name one.
    public var currency = Currency("GBP")!
    /// A WebSocket silent this long is pinged, and closed if the next interval passes in silence too.
    public var webSocketPingInterval: Duration = .seconds(30)
    /// Messages a WebSocket subscriber may have queued unsent before it is closed with 1008.
    public var webSocketSendQueue = 4096
    /// Where customers reach the shop's API from outside, for links in messages (tracking); by default
    /// `http://localhost:<port>`.
    public var publicURL: String?
    /// The shop's name, as messages sign off.
    public var shopName = "Shopfloor"
    /// The mail server (`smtp://` with STARTTLS, `smtps://`, user and password in the URL); no email
    /// is sent without it (messages for email are recorded as skipped).
    public var smtpURL: String?
    /// The sender of every email: `shop@example.com` or `Shop <shop@example.com>`.
    public var mailFrom = "Shopfloor <shop@localhost>"
    /// A PEM file of certificate authorities trusted for outbound TLS besides the system's.
    public var outboundCAFile: String?
    /// Whether webhooks, SMS and push may call private, loopback and link-local addresses (a receiver
    /// on the shop's own network, or a test's on this machine). Off, such addresses are refused after
    /// DNS resolution, on every connection, so an admin cannot aim the server at its own network.
    public var allowPrivateWebhooks = false
    /// The SMS gateway: a Twilio-compatible Messages API (`https://user:token@host/…/Messages.json`,
    /// form POST with basic auth), or with ``smsSecret`` a JSON receiver signed as webhooks are. No SMS
    /// is sent without it.
    public var smsURL: String?
    /// `whsec_…`: makes ``smsURL`` a JSON webhook signed per Standard Webhooks.
    public var smsSecret: String?
    /// The sender number or name of SMS (Twilio's `From`).
    public var smsFrom: String?
    /// The contact in Web Push's VAPID claims (`mailto:` or `https:`), which push services may use to
    /// reach the shop.
    public var vapidSubject = "mailto:shop@localhost"

    public init() {}

    /// What is wrong with a setting.
    public struct Invalid: Error, CustomStringConvertible {
        public let setting: String
        public let value: String
        public var description: String { "invalid value '\(value)' for \(setting)" }
    }

    /// Defaults overridden by any `SHOPFLOOR_*` variable present in `environment`.
    public init(environment: [String: String]) throws(Invalid) {
        adminKey = environment["SHOPFLOOR_ADMIN_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        webhookSecret = environment["SHOPFLOOR_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        for (name, value) in environment where name.hasPrefix("SHOPFLOOR_") {
            let key = name.dropFirst("SHOPFLOOR_".count).lowercased().replacing("_", with: "-")
            if Self.settings.contains(key) { try set(key, to: value, source: name) }
        }
    }

    /// The names of the settings, as flags without their dashes.
    public static let settings: Set<String> = [
        "host", "port", "data-dir", "threads", "tls-cert", "tls-key", "log-level", "log-format", "max-body-size", "max-header-size",
        "max-connections", "header-timeout", "body-timeout", "idle-timeout", "drain-timeout", "enable-echo",
        "event-retention", "reservation-ttl", "currency", "ws-ping-interval", "ws-send-queue", "public-url", "shop-name",
        "smtp-url", "mail-from", "outbound-ca-file", "enable-test-clock", "allow-private-webhooks", "sms-url", "sms-secret", "sms-from",
        "vapid-subject", "cover-window", "replenishment-schedule", "session-ttl", "demo", "cors-origins",
        "max-connections-per-address", "rate-limit", "key-rate-limit", "sensitive-rate-limit", "trusted-proxies",
        "max-open-carts-per-address", "max-units-per-sku", "max-cart-hold", "metrics-listen",
    ]

    /// Sets one setting from its text form; `source` names it in errors.
    public mutating func set(_ key: String, to value: String, source: String) throws(Invalid) {
        let invalid = Invalid(setting: source, value: value)
        switch key {
        case "host": host = value
        case "port":
            guard let port = Int(value), (0...65535).contains(port) else { throw invalid }
            self.port = port
        case "data-dir": dataDirectory = value
        case "threads":
            guard let threads = Int(value), (1...256).contains(threads) else { throw invalid }
            self.threads = threads
        case "tls-cert": tlsCertificatePath = value
        case "tls-key": tlsKeyPath = value
        case "log-level":
            guard let level = Logger.Level(rawValue: value.lowercased()) else { throw invalid }
            logLevel = level
        case "log-format":
            guard ["text", "json"].contains(value) else { throw invalid }
            logJSON = value == "json"
        case "max-body-size":
            guard let size = Int(value), size > 0 else { throw invalid }
            limits.maxBodySize = size
        case "max-header-size":
            guard let size = Int(value), (1024...1_048_576).contains(size) else { throw invalid }
            limits.maxHeaderBytes = size
        case "max-connections":
            guard let count = Int(value), count > 0 else { throw invalid }
            maxConnections = count
        case "max-connections-per-address":
            guard let count = Int(value), count >= 0 else { throw invalid }
            maxConnectionsPerAddress = count
        case "rate-limit": rateLimit = try Self.rateLimit(value, invalid)
        case "key-rate-limit": keyRateLimit = try Self.rateLimit(value, invalid)
        case "sensitive-rate-limit": sensitiveRateLimit = try Self.rateLimit(value, invalid)
        case "trusted-proxies":
            let networks = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if networks == ["none"] {
                trustedProxies = []
            } else {
                let parsed = networks.compactMap(IPNetwork.init)
                guard !networks.isEmpty, parsed.count == networks.count else { throw invalid }
                trustedProxies = parsed
            }
        case "max-open-carts-per-address":
            guard let count = Int(value), (1...100_000).contains(count) else { throw invalid }
            maxOpenCartsPerAddress = count
        case "max-units-per-sku":
            guard let count = Int(value), (1...CartService.maxQuantity).contains(count) else { throw invalid }
            maxUnitsPerSKU = count
        case "max-cart-hold":
            let hold = try Self.duration(value, invalid)
            guard hold >= .seconds(60) else { throw invalid }
            maxCartHold = hold
        case "metrics-listen":
            guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]), (0...65535).contains(port) else {
                throw invalid
            }
            var host = String(value[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty, IPAddress(host) != nil || host == "localhost" else { throw invalid }
            metricsListen = (host, port)
        case "header-timeout": limits.headerTimeout = try Self.duration(value, invalid)
        case "body-timeout": limits.bodyTimeout = try Self.duration(value, invalid)
        case "idle-timeout": limits.idleTimeout = try Self.duration(value, invalid)
        case "drain-timeout": drainTimeout = try Self.duration(value, invalid)
        case "event-retention": eventRetention = try Self.duration(value, invalid)
        case "replenishment-schedule":
            guard let schedule = WeeklySchedule(value) else { throw invalid }
            replenishmentSchedule = schedule
        case "cover-window":
            let window = try Self.duration(value, invalid)
            guard window >= .seconds(86_400), window <= .seconds(366 * 86_400) else { throw invalid }
            coverWindow = window
        case "reservation-ttl": reservationTTL = try Self.duration(value, invalid)
        case "session-ttl":
            let ttl = try Self.duration(value, invalid)
            guard ttl >= .seconds(60), ttl <= .seconds(30 * 86_400) else { throw invalid }
            sessionTTL = ttl
        case "ws-ping-interval": webSocketPingInterval = try Self.duration(value, invalid)
        case "ws-send-queue":
            guard let count = Int(value), (1...1_000_000).contains(count) else { throw invalid }
            webSocketSendQueue = count
        case "currency":
            guard let currency = Currency(value) else { throw invalid }
            self.currency = currency
        case "public-url":
            guard value.hasPrefix("http://") || value.hasPrefix("https://"), value.count <= 500, !value.contains(where: \.isWhitespace) else {
                throw invalid
            }
            publicURL = value
        case "shop-name":
            guard !value.isEmpty, value.count <= 100, !value.contains(where: \.isNewline) else { throw invalid }
            shopName = value
        case "smtp-url": smtpURL = value.isEmpty ? nil : value
        case "mail-from":
            guard !value.isEmpty, value.count <= 300, !value.contains(where: \.isNewline) else { throw invalid }
            mailFrom = value
        case "outbound-ca-file": outboundCAFile = value
        case "allow-private-webhooks":
            guard let flag = Self.flag(value) else { throw invalid }
            allowPrivateWebhooks = flag
        case "sms-url":
            guard value.isEmpty || ((value.hasPrefix("http://") || value.hasPrefix("https://")) && value.count <= 2_000) else { throw invalid }
            smsURL = value.isEmpty ? nil : value
        case "sms-secret":
            guard value.isEmpty || value.hasPrefix("whsec_") else { throw invalid }
            smsSecret = value.isEmpty ? nil : value
        case "sms-from":
            guard value.count <= 50, !value.contains(where: \.isNewline) else { throw invalid }
            smsFrom = value.isEmpty ? nil : value
        case "vapid-subject":
            guard value.hasPrefix("mailto:") || value.hasPrefix("https://"), value.count <= 300, !value.contains(where: \.isWhitespace) else {
                throw invalid
            }
            vapidSubject = value
        case "enable-echo":
            guard let flag = Self.flag(value) else { throw invalid }
            enableEcho = flag
        case "enable-test-clock":
            guard let flag = Self.flag(value) else { throw invalid }
            enableTestClock = flag
        case "demo":
            guard let flag = Self.flag(value) else { throw invalid }
            demo = flag
        case "cors-origins":
            let origins = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            // An origin is a scheme and an authority, nothing more (RFC 6454): no path, no slash.
            guard !origins.isEmpty, origins.allSatisfy({ $0 == "*" || $0.range(of: #"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"#, options: .regularExpression) != nil })
            else { throw invalid }
            corsOrigins = Set(origins)
        default: throw invalid
        }
    }

    private static func flag(_ text: String) -> Bool? {
        ["1": true, "true": true, "yes": true, "0": false, "false": false, "no": false][text.lowercased()]
    }

    /// `off` (or `0`) for none, else a ``RateLimit``.
    private static func rateLimit(_ text: String, _ invalid: Invalid) throws(Invalid) -> RateLimit? {
        if text == "off" || text == "0" { return nil }
        guard let limit = RateLimit(text) else { throw invalid }
        return limit
    }

    private static func duration(_ text: String, _ invalid: Invalid) throws(Invalid) -> Duration {
        guard let duration = parseDuration(text) else { throw invalid }
        return duration
    }

    /// Parses `500ms`, `90s`, `15m`, `2h`, `7d` (API.md's duration format).
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(number), value <= Int64.max / milliseconds / 1000 else {
                return nil
            }
            return .milliseconds(value * milliseconds)
        }
        return nil
    }
}
