public import Logging
public import ShopfloorDomain
public import ShopfloorStorage
import ShopfloorCrypto
import ShopfloorSQLite
public import ShopfloorTransport
import Foundation
import ServiceLifecycle
import Synchronization

/// The service wired together: storage, domain services, routes and the HTTP server, with start and
/// graceful stop. Once started, the process runs as services under one `ServiceGroup` (see
/// ``makeServices(onReady:)`` and "Lifecycle" in docs/ARCHITECTURE.md).
public final class Application: Sendable {
    public let configuration: Configuration
    public let database: Database
    public let lifecycle = Lifecycle()
    public let events: EventLog
    public let keys: APIKeyService
    public let carts: CartService
    public let messages: MessageService
    /// Sends the outbox; runs as a service once started, and tests may call ``DeliveryService/deliverDue()``.
    public let delivery: DeliveryService
    /// The senders behind `delivery`, closed once it has stopped.
    private let channels: [MessageChannel: any MessageSender]
    public let webhooks: WebhookService
    /// Turns events into webhook deliveries; runs as a service, and tests may call ``WebhookDispatcher/dispatchPending()``.
    public let webhookDispatcher: WebhookDispatcher
    public let webhookDelivery: WebhookDeliveryService
    /// Webhooks, SMS and push go out through it; shut down after their loops stop.
    private let outbound: HTTPClient
    private let stock: StockRegistry
    /// Who is on the shop now; its clock-driven changes and the stats topic run as a service.
    public let live: LiveShoppers
    /// Fires durable timers; runs as a service, and tests may call ``Scheduler/fireDue()``.
    public let scheduler: Scheduler
    /// Runs the shop's flows; runs as a service, and tests may call ``FlowEngine/processPending()``.
    public let automation: FlowEngine
    private let cover: StockCoverService
    private let flows: FlowService
    /// The weekly replenishment run; runs as a service, and tests may call ``ReplenishmentService/runPending()``.
    public let replenishment: ReplenishmentService
    private let hub: EventHub
    /// Stocks an empty shop at start when `--demo` is on.
    private let demoShop: DemoShop?
    private let server: HTTPServer
    /// The `--metrics-listen` server, when set.
    private let metricsServer: HTTPServer?
    private let logger: Logger
    private let run = Mutex<RunState>(.notStarted)

    private enum RunState {
        case notStarted
        /// Shut down without having started: only the database was open.
        case stoppedBeforeStart
        case running(group: ServiceGroup, task: Task<Void, any Error>)
    }

    /// Opens storage (running migrations) and binds the listening socket; serves nothing until
    /// ``start()``. Every service reads the time from `clock`.
    public init(configuration: Configuration, logger: Logger, clock: any WallClock = SystemClock()) throws {
        self.configuration = configuration
        self.logger = logger
        // The test clock replaces the machine's, offset by what earlier runs advanced it.
        let offsetFile = configuration.dataDirectory + "/test-clock-offset"
        let testClock = configuration.enableTestClock ? OffsetClock(offset: TestClockRoutes.load(from: offsetFile)) : nil
        let clock: any WallClock = testClock ?? clock
        database = try Database(
            directory: configuration.dataDirectory, migrations: Migrations.all,
            readerCount: max(4, configuration.threads * 2), logger: logger)
        let stores = Stores.sqlite(database)
        events = try EventLog(stores: stores, clock: clock)
        keys = try APIKeyService(stores: stores, clock: clock)
        let sessions = StaffSessionService(stores: stores, keys: keys, ttl: configuration.sessionTTL, clock: clock)
        let catalogue = try CatalogueService(stores: stores, events: events, clock: clock)
        let locations = LocationService(stores: stores, events: events, clock: clock)
        stock = StockRegistry(stores: stores, events: events, clock: clock)
        let idempotency = Idempotency(stores: stores, clock: clock)
        let inventory = InventoryService(stores: stores, stock: stock, idempotency: idempotency)
        let pricing = try PricingService(stores: stores, clock: clock)
        carts = CartService(stores: stores, events: events, stock: stock, pricing: pricing, reservationTTL: configuration.reservationTTL,
                            maxHold: configuration.maxCartHold, maxUnitsPerSKU: configuration.maxUnitsPerSKU, clock: clock)
        let trust = try configuration.outboundCAFile.map { try TLSClientContext(additionalTrustedCertificatesPath: $0) } ?? TLSClientContext()
        outbound = try HTTPClient(configuration: Self.outboundConfiguration(configuration, trust: trust))
        let push = PushService(stores: stores, clock: clock)
        let vapidKey = try VAPIDKeyFile.loadOrCreate(dataDirectory: configuration.dataDirectory)
        let secretsKey = try FileKeySealer.loadKey(dataDirectory: configuration.dataDirectory)
        let publicURL = configuration.publicURL ?? "http://localhost:\(configuration.port)"
        let unsubscribe = UnsubscribeLinks(secretsKey: secretsKey, publicURL: publicURL)
        let senders = try Self.messageSenders(
            configuration, trust: trust, outbound: outbound, vapid: try VAPID(privateKey: vapidKey, subject: configuration.vapidSubject), push: push,
            unsubscribe: unsubscribe, clock: clock, logger: logger)
        channels = senders
        messages = try MessageService(stores: stores, events: events, available: Set(senders.keys),
                                      links: TrackingLinks(secretsKey: secretsKey, publicURL: publicURL), clock: clock)
        delivery = DeliveryService(stores: stores, events: events, senders: senders, clock: clock, logger: logger, messages: messages)
        webhookDispatcher = try WebhookDispatcher(stores: stores, events: events, clock: clock, logger: logger)
        let allowsPrivate = configuration.allowPrivateWebhooks
        webhooks = WebhookService(
            stores: stores, events: events, dispatcher: webhookDispatcher, sealer: FileKeySealer(key: secretsKey),
            clock: clock, refusesHost: { host in !allowsPrivate && !HTTPClientAddressPolicy.publicOnly.admits(literalHost: host) })
        webhookDelivery = WebhookDeliveryService(
            stores: stores, webhooks: webhooks, dispatcher: webhookDispatcher, client: HTTPWebhookClient(client: outbound), clock: clock,
            logger: logger)
        let notices = OrderMessages(messages: messages, pricing: pricing, push: push, shopName: configuration.shopName, publicURL: publicURL)
        let customers = CustomerService(stores: stores, events: events, currency: configuration.currency, clock: clock)
        let segments = SegmentService(stores: stores, customers: customers)
        let shopperAuth = ShopperAuthService(stores: stores, customers: customers, messages: messages, secretsKey: secretsKey)
        let orders = OrderService(stores: stores, events: events, stock: stock, notices: notices, customers: customers, clock: clock)
        let webhook = configuration.webhookSecret.map { PaymentWebhook(secret: $0, stores: stores, orders: orders, idempotency: idempotency) }
        var providers: [any PaymentProvider] = [ManualPayments(), TestCardPayments()]
        if webhook != nil { providers.append(WebhookPayments()) }
        let checkout = CheckoutService(stores: stores, carts: carts, orders: orders, idempotency: idempotency, providers: providers)
        live = LiveShoppers(stores: stores, events: events, carts: carts, catalogue: catalogue, customers: customers, pricing: pricing,
                            currency: configuration.currency, clock: clock)
        let conversations = ConversationService(stores: stores, events: events, live: live, checkout: checkout, carts: carts, clock: clock)
        scheduler = Scheduler(stores: stores, clock: clock, logger: logger)
        let proposalLinks = ProposalLinks(secretsKey: secretsKey, publicURL: publicURL)
        automation = try FlowEngine(
            stores: stores, events: events, messages: messages, pricing: pricing, live: live, scheduler: scheduler, currency: configuration.currency,
            reservationTTL: configuration.reservationTTL, shopName: configuration.shopName, publicURL: publicURL, proposalLinks: proposalLinks,
            clock: clock, logger: logger)
        flows = FlowService(stores: stores, engine: automation, events: events, messages: messages, currency: configuration.currency, clock: clock)
        let tasks = TaskService(stores: stores, events: events, clock: clock)
        cover = StockCoverService(stores: stores, events: events, scheduler: scheduler, window: configuration.coverWindow, clock: clock)
        replenishment = ReplenishmentService(stores: stores, engine: automation, scheduler: scheduler, pricing: pricing, links: proposalLinks,
                                             schedule: configuration.replenishmentSchedule, clock: clock, logger: logger)
        let proposalCheckout = ProposalCheckout(stores: stores, events: events, carts: carts, checkout: checkout, replenishment: replenishment,
                                                currency: configuration.currency, clock: clock)
        let campaigns = CampaignService(stores: stores, customers: customers, segments: segments, messages: messages, pricing: pricing,
                                        scheduler: scheduler, shopName: configuration.shopName, publicURL: publicURL, clock: clock)
        hub = EventHub(log: events)
        demoShop = configuration.demo ? DemoShop(catalogue: catalogue, pricing: pricing, currency: configuration.currency) : nil

        let orderAccess = OrderAccess(locations: locations, pricing: pricing)
        let metrics = ServerMetrics()
        database.writer.observeBatches(metrics)
        var router = Router()
        MetricsRoutes(metrics: metrics, requiresAdmin: true).register(on: &router)
        SystemRoutes(lifecycle: lifecycle).register(on: &router)
        StaticPages(files: webPages).register(on: &router)
        if configuration.enableEcho { EchoRoutes(pingInterval: configuration.webSocketPingInterval).register(on: &router) }
        TestClockRoutes(clock: testClock, offsetFile: offsetFile).register(on: &router)
        ProductRoutes(catalogue: catalogue, responses: ProductResponses(catalogue: catalogue, events: events)).register(on: &router)
        LocationRoutes(locations: locations).register(on: &router)
        InventoryRoutes(inventory: inventory, locations: locations).register(on: &router)
        APIKeyRoutes(keys: keys, locations: locations).register(on: &router)
        SessionRoutes(sessions: sessions, locations: locations).register(on: &router)
        EventRoutes(events: events).register(on: &router)
        EventStreamRoutes(
            hub: hub, keys: keys, sessions: sessions, shoppers: ShopperServices(live: live, conversations: conversations, auth: shopperAuth),
            options: WebSocketOptions(pingInterval: configuration.webSocketPingInterval, maxQueuedMessages: configuration.webSocketSendQueue),
            channels: EventChannels(keys: keys), access: orderAccess
        ).register(on: &router)
        CartRoutes(carts: carts, locations: locations, currency: configuration.currency,
                   openCarts: OpenCartLimiter(max: configuration.maxOpenCartsPerAddress, maxHold: configuration.maxCartHold, clock: clock))
            .register(on: &router)
        CheckoutRoutes(checkout: checkout).register(on: &router)
        PricingRoutes(pricing: pricing, locations: locations).register(on: &router)
        MessageRoutes(messages: messages, delivery: delivery, unsubscribe: unsubscribe, customers: customers).register(on: &router)
        TrackingRoutes(messages: messages).register(on: &router)
        CustomerRoutes(customers: customers, segments: segments, shoppers: shopperAuth, messages: messages).register(on: &router)
        SegmentRoutes(segments: segments).register(on: &router)
        ShopperAccountRoutes(shoppers: shopperAuth, customers: customers).register(on: &router)
        ShopperRoutes(live: live, conversations: conversations).register(on: &router)
        WebhookRoutes(webhooks: webhooks).register(on: &router)
        FlowRoutes(flows: flows, campaigns: campaigns, tasks: tasks, currency: configuration.currency).register(on: &router)
        StockCoverRoutes(cover: cover).register(on: &router)
        ReplenishmentRoutes(replenishment: replenishment, checkout: proposalCheckout, flows: flows, currency: configuration.currency).register(on: &router)
        PushRoutes(push: push, publicKey: vapidKey.publicKey).register(on: &router)
        OrderRoutes(orders: orders, pricing: pricing, access: orderAccess, handover: POSHandover(stores: stores, orders: orders), webhook: webhook).register(on: &router)
        let responder = APIResponder(
            router: router,
            middleware: [RequestIDMiddleware(), AccessLogMiddleware(metrics: metrics)]
                + (configuration.corsOrigins.isEmpty ? [] : [CORSMiddleware(origins: configuration.corsOrigins)])
                + [ProblemMiddleware(), AuthMiddleware(keys: keys, shoppers: shopperAuth, sessions: sessions), Self.rateLimits(configuration, metrics: metrics, clock: clock)],
            logger: logger)
        var tls: TLSContext?
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            tls = try TLSContext(certificatePath: certificate, keyPath: key)
        }
        let server = try HTTPServer(
            configuration: .init(
                host: configuration.host, port: configuration.port, threads: configuration.threads,
                limits: configuration.limits, maxConnections: configuration.maxConnections,
                maxConnectionsPerAddress: configuration.maxConnectionsPerAddress, tls: tls),
            responder: responder, logger: logger)
        self.server = server
        let carts = carts
        let walPath = database.path + "-wal"
        metrics.sample {
            var sample = ServerMetrics.Sample()
            sample.connections = server.connectionCount
            sample.webSockets = server.webSocketCount
            sample.slowConsumerCloses = server.slowConsumerCloseCount
            sample.walBytes = ((try? FileManager.default.attributesOfItem(atPath: walPath))?[.size] as? NSNumber)?.int64Value ?? 0
            if let totals = try? carts.reservationTotals() { (sample.reservingCarts, sample.reservedUnits) = totals }
            return sample
        }
        metricsServer = try configuration.metricsListen.map { listen in
            var routes = Router()
            MetricsRoutes(metrics: metrics, requiresAdmin: false).register(on: &routes)
            let responder = APIResponder(router: routes, middleware: [RequestIDMiddleware(), ProblemMiddleware()], logger: logger)
            return try HTTPServer(configuration: .init(host: listen.host, port: listen.port, threads: 1, maxConnections: 64),
                                  responder: responder, logger: logger)
        }
    }

    /// The rate limits of `--rate-limit`, `--key-rate-limit` and `--sensitive-rate-limit`, each left out when off.
    private static func rateLimits(_ configuration: Configuration, metrics: ServerMetrics, clock: any WallClock) -> RateLimitMiddleware {
        RateLimitMiddleware(
            resolver: ClientAddressResolver(trustedProxies: configuration.trustedProxies),
            addresses: configuration.rateLimit.map { RateLimiter(name: "address", limit: $0, clock: clock) },
            keys: configuration.keyRateLimit.map { RateLimiter(name: "key", limit: $0, clock: clock) },
            sensitive: configuration.sensitiveRateLimit.map { RateLimiter(name: "sensitive", limit: $0, clock: clock) }, metrics: metrics)
    }

    /// The outbound HTTP client's settings: the system's roots and `--outbound-ca-file`, public
    /// addresses only unless `--allow-private-webhooks`, and room for the webhook loop's requests and
    /// the SMS and push channels' at once.
    private static func outboundConfiguration(_ configuration: Configuration, trust: TLSClientContext) -> HTTPClientConfiguration {
        var outbound = HTTPClientConfiguration()
        outbound.tlsContext = trust
        outbound.addressPolicy = configuration.allowPrivateWebhooks ? .any : .publicOnly
        outbound.maxConcurrentRequests = WebhookDeliveryService.defaultConcurrency + 2 * DeliveryService.defaultConcurrency
        outbound.maxIdleConnectionsPerOrigin = WebhookDeliveryService.defaultConcurrency
        return outbound
    }

    /// A sender for each channel the configuration sets up: email with `--smtp-url`, SMS with
    /// `--sms-url`, and push always (its keys are the server's own).
    private static func messageSenders(_ configuration: Configuration, trust: TLSClientContext, outbound: HTTPClient, vapid: VAPID,
                                       push: PushService, unsubscribe: UnsubscribeLinks, clock: any WallClock,
                                       logger: Logger) throws -> [MessageChannel: any MessageSender] {
        var senders: [MessageChannel: any MessageSender] = [.push: PushSender(client: outbound, vapid: vapid, push: push, clock: clock, logger: logger)]
        if let url = configuration.smsURL {
            senders[.sms] = try SMSSender(url: url, secret: configuration.smsSecret, from: configuration.smsFrom, client: outbound, clock: clock)
            logger.info("SMS through \(configuration.smsSecret == nil ? "a Twilio-compatible API" : "a signed JSON receiver")")
        }
        if let url = configuration.smtpURL {
            let smtp = try SMTPConfiguration(url: url)
            senders[.email] = try EmailSender(configuration: smtp, from: configuration.mailFrom, trust: trust,
                                              connections: DeliveryService.defaultConcurrency, unsubscribe: unsubscribe)
            logger.info("email through \(smtp)")
        }
        return senders
    }

    /// Where the server listens (the real port when configured with port 0).
    public var localAddress: SocketAddress { server.localAddress }

    /// Makes sure an admin key exists, then runs the services (see ``makeServices(onReady:)``) in a
    /// `ServiceGroup` on a task this application owns; returns once the server accepts and `/ready`
    /// answers 200. Call it once, and ``shutdown()`` to stop.
    public func start() async throws {
        if let secret = try await keys.bootstrapAdmin(configuredKey: configuration.adminKey, dataDirectory: configuration.dataDirectory) {
            // Shown once, on standard output, so it can be captured apart from the logs.
            let line = "Shopfloor admin key (also in \(configuration.dataDirectory)/admin.key): \(secret)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await carts.recover()
        try await live.start()
        try await cover.start()
        try await replenishment.start()
        try await flows.installShipped()
        if let demoShop, try await demoShop.stockIfEmpty() {
            logger.notice("stocked the empty shop with demo products (--demo)")
        }
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: makeServices(onReady: { readyContinuation.yield() }), logger: logger))
        let task = Task {
            // Ends the wait below also when the group stops before the server is ready.
            defer { readyContinuation.finish() }
            try await group.run()
        }
        run.withLock { state in
            guard case .notStarted = state else { preconditionFailure("Application.start() called twice or after shutdown()") }
            state = .running(group: group, task: task)
        }
        var readiness = ready.makeAsyncIterator()
        if await readiness.next() == nil { try await task.value }
    }

    /// The process as services, in start order; `ServiceGroup` stops them in reverse, each only after
    /// the one after it has returned:
    /// 1. ``DatabaseService``: closes the database, last, once nothing else can write;
    /// 2. the outbound HTTP client, shut down once the loops that use it have stopped;
    /// 3. background jobs: cart expiry, message delivery, webhook dispatch and delivery, the scheduler and the flow engine,
    ///    stock actor eviction (every 60 s),
    ///    event pruning (hourly), each ending at its next tick or at once;
    /// 4. ``HTTPServerService``: drains first, so requests in flight still have jobs and storage.
    private func makeServices(onReady: @escaping @Sendable () -> Void) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let events = events
        let webhooks = webhooks
        let retention = configuration.eventRetention
        let logger = logger
        let stock = stock
        let live = live
        let hub = hub
        let metricsService = metricsServer.map { [ServiceGroupConfiguration.ServiceConfiguration(
            service: MetricsServerService(server: $0, logger: logger), serviceName: "metrics server")] } ?? []
        return [
            .init(service: DatabaseService(database: database, logger: logger), serviceName: "database"),
            .init(service: OutboundHTTPService(client: outbound, logger: logger), serviceName: "outbound http"),
            .init(service: CartExpiryService(carts: carts, logger: logger), serviceName: "cart expiry"),
            .init(service: MessageDeliveryService(delivery: delivery, senders: Array(channels.values), logger: logger),
                  serviceName: "message delivery"),
            .init(service: WebhookDispatchService(dispatcher: webhookDispatcher, logger: logger), serviceName: "webhook dispatch"),
            .init(service: WebhookDeliveryLoopService(delivery: webhookDelivery, logger: logger), serviceName: "webhook delivery"),
            .init(service: SchedulerService(scheduler: scheduler, logger: logger), serviceName: "scheduler"),
            .init(service: FlowEngineService(engine: automation, logger: logger), serviceName: "automation"),
            .init(service: ReplenishmentRunService(replenishment: replenishment, logger: logger), serviceName: "replenishment"),
            .init(service: PeriodicJob(name: "stock eviction", interval: .seconds(60), logger: logger) { stock.evictIdle() },
                  serviceName: "stock eviction"),
            .init(
                service: PeriodicJob(name: "live shoppers", interval: .seconds(1), logger: logger) {
                    live.tick()
                    if let stats = live.statsChanged() { hub.broadcast(EventChannelReply.stats(stats, at: live.timestamp), to: "stats") }
                },
                serviceName: "live shoppers"),
            .init(
                service: PeriodicJob(name: "event pruning", interval: .seconds(3600), logger: logger) {
                    let pruned = try await events.prune(olderThan: retention)
                    if pruned > 0 { logger.info("pruned \(pruned) events older than \(retention)") }
                    let actions = try await live.pruneActivity(olderThan: retention)
                    if actions > 0 { logger.info("pruned \(actions) shopper actions older than \(retention)") }
                    let deliveries = try await webhooks.pruneDeliveries(olderThan: retention)
                    if deliveries > 0 { logger.info("pruned \(deliveries) webhook deliveries older than \(retention)") }
                },
                serviceName: "event pruning"),
        ] + metricsService + [
            .init(
                service: HTTPServerService(
                    server: server, lifecycle: lifecycle, drainTimeout: configuration.drainTimeout,
                    scheme: configuration.tlsCertificatePath == nil ? "http" : "https", logger: logger, onReady: onReady),
                serviceName: "http server"),
        ]
    }

    /// Graceful stop, in the services' reverse order: the HTTP server drains (`/ready` 503, no new
    /// connections, in-flight requests answered up to the drain timeout, WebSockets get 1001), the
    /// background jobs end, and the database closes. Returns once it has. Safe to call more than once.
    public func shutdown() async {
        let state = run.withLock { state in
            defer { if case .notStarted = state { state = .stoppedBeforeStart } }
            return state
        }
        switch state {
        case .notStarted:
            database.close()
        case .stoppedBeforeStart:
            return
        case .running(let group, let task):
            await group.triggerGracefulShutdown()
            do {
                try await task.value
            } catch {
                logger.error("services stopped with an error: \(error)")
            }
        }
        logger.notice("Shopfloor stopped")
    }

    /// Returns once the services have stopped: after ``shutdown()``, or because one of them ended by
    /// itself, which cancels the rest and throws that error here (the executable then exits non-zero).
    public func waitUntilStopped() async throws {
        guard case .running(_, let task) = run.withLock({ $0 }) else { return }
        try await task.value
    }
}
