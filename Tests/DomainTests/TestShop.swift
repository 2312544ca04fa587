import Foundation
@testable import ShopfloorDomain

/// Every domain service on a fresh temporary database, reading the time from one manual clock: a
/// shop with the main location, a 20 % UK tax rate, standard shipping, and the products a test adds.
final class TestShop: Sendable {
    let store = try! TestDatabase()
    let clock = ManualClock()
    let events: EventLog
    let catalogue: CatalogueService
    let locations: LocationService
    let stock: StockRegistry
    let idempotency: Idempotency
    let inventory: InventoryService
    let pricing: PricingService
    let carts: CartService
    let messages: MessageService
    let push: PushService
    let customers: CustomerService
    let segments: SegmentService
    let orders: OrderService
    let checkout: CheckoutService
    let live: LiveShoppers
    let conversations: ConversationService
    let main: Location

    static let ttl = Duration.seconds(900)
    static let address = Address(name: "Ada Lovelace", line1: "1 High St", line2: nil, city: "London", region: nil, postalCode: "N1",
                                 country: "GB", phone: nil)

    init() async throws {
        let stores = store.stores
        events = try EventLog(stores: stores, clock: clock)
        catalogue = try CatalogueService(stores: stores, events: events, clock: clock)
        locations = LocationService(stores: stores, events: events, clock: clock)
        stock = StockRegistry(stores: stores, events: events, clock: clock)
        idempotency = Idempotency(stores: stores, clock: clock)
        inventory = InventoryService(stores: stores, stock: stock, idempotency: idempotency)
        pricing = try PricingService(stores: stores, clock: clock)
        carts = CartService(stores: stores, events: events, stock: stock, pricing: pricing, reservationTTL: Self.ttl, clock: clock)
        messages = try MessageService(stores: stores, events: events, available: [.email, .sms, .push], clock: clock)
        push = PushService(stores: stores, clock: clock)
        let notices = OrderMessages(messages: messages, pricing: pricing, push: push, shopName: "Test Shop", publicURL: "https://shop.example/")
        customers = CustomerService(stores: stores, events: events, currency: Currency("GBP")!, clock: clock)
        segments = SegmentService(stores: stores, customers: customers)
        orders = OrderService(stores: stores, events: events, stock: stock, notices: notices, customers: customers, clock: clock)
        checkout = CheckoutService(stores: stores, carts: carts, orders: orders, idempotency: idempotency)
        live = LiveShoppers(stores: stores, events: events, carts: carts, catalogue: catalogue, customers: customers, pricing: pricing,
                            currency: Currency("GBP")!, clock: clock)
        conversations = ConversationService(stores: stores, events: events, live: live, checkout: checkout, carts: carts, clock: clock)
        main = try locations.find("main")!
    }

    /// A delivery service sending through `sender` on this shop's store and clock.
    func delivery(_ sender: some MessageSender, concurrency: Int = 4) -> DeliveryService {
        DeliveryService(stores: store.stores, events: events, senders: [.email: sender], concurrency: concurrency, clock: clock)
    }

    /// A product with these SKUs at `price` pence each, `units` of each in stock at the main location.
    func stocked(_ skus: String..., price: Int64 = 1000, units: Int = 5) async throws {
        _ = try await catalogue.create(.make(skus: skus, amount: price), actor: "test")
        for sku in skus where units > 0 {
            _ = try await inventory.adjust(sku: sku, location: main, delta: units, reason: .received, actor: "test", note: nil)
        }
    }

    /// The SKU's (on hand, reserved) at the main location, as stored.
    func levels(_ sku: String) throws -> (onHand: Int, reserved: Int) {
        let level = try inventory.level(sku)
        return (level.onHand, level.reserved)
    }

    func onlineCart() async throws -> Cart {
        try await carts.create(channel: .online, location: nil, customerID: nil, currency: Currency("GBP")!)
    }

    /// Event types appended after `seq` on the cart's topic, in order.
    func cartEvents(_ cart: CartID, after seq: Int64 = 0) throws -> [String] {
        try events.read(since: seq, topics: ["cart:\(cart)"], limit: 1000).map(\.type)
    }
}
