public import Logging
public import ShopfloorDomain
public import ShopfloorStorage
import ShopfloorSQLite
public import ShopfloorTransport
import Foundation
import Synchronization

/// The service wired together: storage, domain services, routes and the HTTP server, with start and
/// graceful stop.
public final class Application: Sendable {
    public let configuration: Configuration
    public let database: Database
    public let lifecycle = Lifecycle()
    public let events: EventLog
    public let keys: APIKeyService
    public let carts: CartService
    private let stock: StockRegistry
    private let server: HTTPServer
    private let logger: Logger
    private let maintenance = Mutex<Task<Void, Never>?>(nil)

    /// Opens storage (running migrations) and binds the listening socket; serves nothing until
    /// ``start()``.
    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        database = try Database(
            directory: configuration.dataDirectory, migrations: Migrations.all,
            readerCount: max(4, configuration.threads * 2), logger: logger)
        let stores = Stores.sqlite(database)
        events = try EventLog(stores: stores)
        keys = try APIKeyService(stores: stores)
        let catalogue = CatalogueService(database: database, stores: stores, events: events)
        let locations = LocationService(stores: stores, events: events)
        stock = StockRegistry(stores: stores, events: events)
        let inventory = InventoryService(stores: stores, stock: stock)
        let pricing = try PricingService(stores: stores)
        carts = CartService(database: database, events: events, stock: stock, pricing: pricing, reservationTTL: configuration.reservationTTL)
        let orders = OrderService(database: database, events: events, stock: stock)
        let database = database
        let events = events
        let webhook = configuration.webhookSecret.map { PaymentWebhook(secret: $0, database: database, events: events) }
        var providers: [any PaymentProvider] = [ManualPayments(), TestCardPayments()]
        if webhook != nil { providers.append(WebhookPayments()) }
        let checkout = CheckoutService(carts: carts, orders: orders, providers: providers)

        var router = Router()
        SystemRoutes(lifecycle: lifecycle).register(on: &router)
        if configuration.enableEcho { EchoRoutes(pingInterval: configuration.webSocketPingInterval).register(on: &router) }
        ProductRoutes(catalogue: catalogue).register(on: &router)
        LocationRoutes(locations: locations).register(on: &router)
        InventoryRoutes(inventory: inventory, locations: locations).register(on: &router)
        APIKeyRoutes(keys: keys, locations: locations).register(on: &router)
        EventRoutes(events: events).register(on: &router)
        EventStreamRoutes(
            hub: EventHub(log: events), keys: keys,
            options: WebSocketOptions(pingInterval: configuration.webSocketPingInterval, maxQueuedMessages: configuration.webSocketSendQueue)
        ).register(on: &router)
        CartRoutes(carts: carts, locations: locations, currency: configuration.currency).register(on: &router)
        CheckoutRoutes(checkout: checkout).register(on: &router)
        PricingRoutes(pricing: pricing, locations: locations).register(on: &router)
        OrderRoutes(orders: orders, pricing: pricing, handover: POSHandover(database: database, events: events), webhook: webhook).register(on: &router)
        let responder = APIResponder(
            router: router,
            middleware: [RequestIDMiddleware(), AccessLogMiddleware(), ProblemMiddleware(), AuthMiddleware(keys: keys)],
            logger: logger)
        var tls: TLSContext?
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            tls = try TLSContext(certificatePath: certificate, keyPath: key)
        }
        server = try HTTPServer(
            configuration: .init(
                host: configuration.host, port: configuration.port, threads: configuration.threads,
                limits: configuration.limits, maxConnections: configuration.maxConnections, tls: tls),
            responder: responder, logger: logger)
    }

    /// Where the server listens (the real port when configured with port 0).
    public var localAddress: SocketAddress { server.localAddress }

    /// Makes sure an admin key exists, starts serving and background maintenance, and reports ready.
    public func start() async throws {
        if let secret = try await keys.bootstrapAdmin(configuredKey: configuration.adminKey, dataDirectory: configuration.dataDirectory) {
            // Shown once, on standard output, so it can be captured apart from the logs.
            let line = "Shopfloor admin key (also in \(configuration.dataDirectory)/admin.key): \(secret)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await carts.recover()
        server.start()
        lifecycle.enter(.ready)
        let scheme = configuration.tlsCertificatePath == nil ? "http" : "https"
        logger.notice("Shopfloor listening on \(scheme)://\(server.localAddress)")
        let events = events
        let retention = configuration.eventRetention
        let logger = logger
        let carts = carts
        let stock = stock
        maintenance.withLock {
            $0 = Task {
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        await carts.runExpiry { logger.error("cart expiry failed: \($0)") }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            stock.evictIdle()
                            try? await Task.sleep(for: .seconds(60))
                        }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            do {
                                let pruned = try await events.prune(olderThan: retention)
                                if pruned > 0 { logger.info("pruned \(pruned) events older than \(retention)") }
                                try await Task.sleep(for: .seconds(3600))
                            } catch {
                                if !(error is CancellationError) { logger.error("event pruning failed: \(error)") }
                                return
                            }
                        }
                    }
                }
            }
        }
    }

    /// Graceful stop: `/ready` turns 503, no new connections, in-flight requests finish (bounded by
    /// the drain timeout), then everything closes.
    public func shutdown() async {
        lifecycle.enter(.draining)
        maintenance.withLock { $0?.cancel() }
        server.drain()
        let drained = await server.waitUntilIdle(timeout: configuration.drainTimeout)
        if !drained { logger.warning("drain timeout reached with \(server.connectionCount) connections open; closing them") }
        server.stop()
        database.close()
        logger.notice("Shopfloor stopped")
    }
}
