import ArgumentParser
import Foundation
import Logging
import ShopfloorAPI
import UnixSignals

@main
struct Shopfloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shopfloor: one live truth about stock, carts, orders and customers.",
        subcommands: [Serve.self, Backup.self, Restore.self],
        defaultSubcommand: Serve.self)
}

/// `shopfloor serve`: flags override `SHOPFLOOR_*` environment variables, which override defaults.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the API server until SIGTERM or SIGINT.")

    @Option(help: "Address to listen on (SHOPFLOOR_HOST). Default 0.0.0.0; '::' for IPv6 and IPv4.") var host: String?
    @Option(help: "Port; 0 picks a free one (SHOPFLOOR_PORT). Default 8080.") var port: String?
    @Option(help: "Directory for the SQLite database (SHOPFLOOR_DATA_DIR). Default ./data.") var dataDir: String?
    @Option(help: "Event-loop threads (SHOPFLOOR_THREADS). Default: one per core.") var threads: String?
    @Option(help: "PEM certificate chain; with --tls-key serves HTTPS only (SHOPFLOOR_TLS_CERT).") var tlsCert: String?
    @Option(help: "PEM private key (SHOPFLOOR_TLS_KEY).") var tlsKey: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (SHOPFLOOR_LOG_LEVEL). Default info.") var logLevel: String?
    @Option(help: "text, or json for one JSON object per line with the request id (SHOPFLOOR_LOG_FORMAT). Default text.") var logFormat: String?
    @Option(help: "Largest request body in bytes (SHOPFLOOR_MAX_BODY_SIZE). Default 1048576.") var maxBodySize: String?
    @Option(help: "Largest request header section in bytes, 1024 to 1048576; larger gets 431 (SHOPFLOOR_MAX_HEADER_SIZE). Default 65536.")
    var maxHeaderSize: String?
    @Option(help: "Most open connections (SHOPFLOOR_MAX_CONNECTIONS). Default 10000.") var maxConnections: String?
    @Option(help: "Time allowed for a request's headers, and for a new connection's first byte (SHOPFLOOR_HEADER_TIMEOUT). Default 10s.") var headerTimeout: String?
    @Option(help: "Time allowed for a request's body (SHOPFLOOR_BODY_TIMEOUT). Default 30s.") var bodyTimeout: String?
    @Option(help: "Idle keep-alive timeout (SHOPFLOOR_IDLE_TIMEOUT). Default 60s.") var idleTimeout: String?
    @Option(help: "Longest wait for in-flight requests on stop (SHOPFLOOR_DRAIN_TIMEOUT). Default 10s.") var drainTimeout: String?
    @Option(help: "How long the event log keeps events (SHOPFLOOR_EVENT_RETENTION). Default 30d.") var eventRetention: String?
    @Option(help: "How long a cart's reservations last after its last write (SHOPFLOOR_RESERVATION_TTL). Default 15m.") var reservationTtl: String?
    @Option(help: "How long a staff session of the pages lasts after its last use, 1m to 30d (SHOPFLOOR_SESSION_TTL). Default 12h.")
    var sessionTtl: String?
    @Option(help: "How far back sales count for stock cover, 1d to 366d (SHOPFLOOR_COVER_WINDOW). Default 28d.") var coverWindow: String?
    @Option(help: "When the weekly replenishment run starts in the shop's time zone, as 'mon 09:00' (SHOPFLOOR_REPLENISHMENT_SCHEDULE). Default mon 09:00.")
    var replenishmentSchedule: String?
    @Option(help: "ISO 4217 currency of carts that name none (SHOPFLOOR_CURRENCY). Default GBP.") var currency: String?
    @Option(help: "Ping a silent WebSocket after this long; close it after another (SHOPFLOOR_WS_PING_INTERVAL). Default 30s.") var wsPingInterval: String?
    @Option(help: "Messages a WebSocket subscriber may have queued unsent before it is closed (SHOPFLOOR_WS_SEND_QUEUE). Default 4096.") var wsSendQueue: String?
    @Option(help: "Where customers reach the API, for links in messages (SHOPFLOOR_PUBLIC_URL). Default http://localhost:<port>.") var publicUrl: String?
    @Option(help: "The shop's name in messages (SHOPFLOOR_SHOP_NAME). Default Shopfloor.") var shopName: String?
    @Option(help: "Mail server: smtp://user:password@host:587 (STARTTLS) or smtps://…:465 (SHOPFLOOR_SMTP_URL; prefer the variable, flags show in ps).") var smtpUrl: String?
    @Option(help: "Sender of emails, 'Shop <shop@example.com>' (SHOPFLOOR_MAIL_FROM).") var mailFrom: String?
    @Option(help: "PEM file of extra certificate authorities for outbound TLS (SHOPFLOOR_OUTBOUND_CA_FILE).") var outboundCaFile: String?
    @Flag(help: "Let webhooks, SMS and push call private, loopback and link-local addresses (SHOPFLOOR_ALLOW_PRIVATE_WEBHOOKS).") var allowPrivateWebhooks = false
    @Option(help: "SMS gateway: a Twilio-compatible Messages API https://sid:token@host/…/Messages.json, or a JSON receiver with --sms-secret (SHOPFLOOR_SMS_URL).") var smsUrl: String?
    @Option(help: "whsec_… secret: send SMS as JSON signed like webhooks to --sms-url (SHOPFLOOR_SMS_SECRET).") var smsSecret: String?
    @Option(help: "Sender number or name of SMS (SHOPFLOOR_SMS_FROM).") var smsFrom: String?
    @Option(help: "Contact in Web Push VAPID claims, mailto:… or https://… (SHOPFLOOR_VAPID_SUBJECT). Default mailto:shop@localhost.") var vapidSubject: String?
    @Flag(help: "Serve the echo endpoints for conformance tests (SHOPFLOOR_ENABLE_ECHO).") var enableEcho = false
    @Flag(help: "Serve /v1/test/clock, which moves every service's clock on: black-box tests only (SHOPFLOOR_ENABLE_TEST_CLOCK).") var enableTestClock = false
    @Flag(help: "Stock an empty shop with a few demo products, UK VAT and shipping, so the pages show something (SHOPFLOOR_DEMO).") var demo = false
    @Option(help: "Origins whose browser pages may call the API, comma-separated (https://shop.example), or * for public reads from anywhere (SHOPFLOOR_CORS_ORIGINS). Default none.")
    var corsOrigins: String?
    @Option(help: "Most open connections from one client address, 0 for no cap; more get 429 (SHOPFLOOR_MAX_CONNECTIONS_PER_ADDRESS). Default 256.")
    var maxConnectionsPerAddress: String?
    @Option(help: "Requests per client address (anonymous, storefront keys, shoppers) as RATE/s|min|h[:BURST], or off (SHOPFLOOR_RATE_LIMIT). Default 50/s:200.")
    var rateLimit: String?
    @Option(help: "Requests per staff key, admin or pos, as RATE/s|min|h[:BURST], or off (SHOPFLOOR_KEY_RATE_LIMIT). Default 500/s:1000.")
    var keyRateLimit: String?
    @Option(help: "Requests per client address to sign-in, handover PIN and payment webhook routes, or off (SHOPFLOOR_SENSITIVE_RATE_LIMIT). Default 30/min:10.")
    var sensitiveRateLimit: String?
    @Option(help: "Proxies whose Forwarded/X-Forwarded-For name the client, CIDRs comma-separated, or none (SHOPFLOOR_TRUSTED_PROXIES). Default 127.0.0.0/8,::1.")
    var trustedProxies: String?
    @Option(help: "Open carts one client address may hold at once, staff's carts aside (SHOPFLOOR_MAX_OPEN_CARTS_PER_ADDRESS). Default 20.")
    var maxOpenCartsPerAddress: String?
    @Option(help: "Units of one SKU an online cart may hold (SHOPFLOOR_MAX_UNITS_PER_SKU). Default 100.") var maxUnitsPerSku: String?
    @Option(help: "Longest a cart holds stock from its creation, however often it is written (SHOPFLOOR_MAX_CART_HOLD). Default 3h.")
    var maxCartHold: String?
    @Option(help: "Also serve GET /metrics without a key on this HOST:PORT, for the operator's network only (SHOPFLOOR_METRICS_LISTEN). On the API's address it needs an admin key.")
    var metricsListen: String?

    func run() async throws {
        var configuration = try Configuration(environment: ProcessInfo.processInfo.environment)
        let flags: [(String, String?)] = [
            ("host", host), ("port", port), ("data-dir", dataDir), ("threads", threads), ("tls-cert", tlsCert),
            ("tls-key", tlsKey), ("log-level", logLevel), ("log-format", logFormat), ("max-body-size", maxBodySize), ("max-header-size", maxHeaderSize),
            ("max-connections", maxConnections),
            ("header-timeout", headerTimeout), ("body-timeout", bodyTimeout), ("idle-timeout", idleTimeout),
            ("drain-timeout", drainTimeout), ("enable-echo", enableEcho ? "true" : nil),
            ("enable-test-clock", enableTestClock ? "true" : nil), ("event-retention", eventRetention),
            ("reservation-ttl", reservationTtl), ("currency", currency), ("ws-ping-interval", wsPingInterval), ("ws-send-queue", wsSendQueue),
            ("public-url", publicUrl), ("shop-name", shopName), ("smtp-url", smtpUrl), ("mail-from", mailFrom), ("outbound-ca-file", outboundCaFile),
            ("allow-private-webhooks", allowPrivateWebhooks ? "true" : nil), ("sms-url", smsUrl), ("sms-secret", smsSecret), ("sms-from", smsFrom),
            ("vapid-subject", vapidSubject), ("cover-window", coverWindow), ("replenishment-schedule", replenishmentSchedule),
            ("session-ttl", sessionTtl), ("demo", demo ? "true" : nil), ("cors-origins", corsOrigins),
            ("max-connections-per-address", maxConnectionsPerAddress), ("rate-limit", rateLimit), ("key-rate-limit", keyRateLimit),
            ("sensitive-rate-limit", sensitiveRateLimit), ("trusted-proxies", trustedProxies),
            ("max-open-carts-per-address", maxOpenCartsPerAddress), ("max-units-per-sku", maxUnitsPerSku), ("max-cart-hold", maxCartHold),
            ("metrics-listen", metricsListen),
        ]
        for case let (key, value?) in flags { try configuration.set(key, to: value, source: "--\(key)") }
        guard (configuration.tlsCertificatePath == nil) == (configuration.tlsKeyPath == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }

        let level = configuration.logLevel
        let json = configuration.logJSON
        LoggingSystem.bootstrap({ label, metadataProvider in
            if json {
                var handler = JSONLogHandler(label: label, metadataProvider: metadataProvider)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
            handler.logLevel = level
            return handler
        }, metadataProvider: RequestLogMetadata.provider)
        let logger = Logger(label: "shopfloor")
        // Trapped before anything starts, so a signal that arrives while the server starts is kept
        // and drains it as soon as it is up. (UnixSignals delivers through Dispatch: no work runs in
        // a signal handler.)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let application = try Application(configuration: configuration, logger: logger)
        try await application.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await signal in signals {
                    logger.notice("received signal \(signal), draining")
                    break
                }
                await application.shutdown()
            }
            // Should a service end by itself, this throws: the signal wait above is cancelled, the
            // stop completes, and the process exits non-zero instead of idling without a server.
            group.addTask { try await application.waitUntilStopped() }
            try await group.waitForAll()
        }
    }
}
