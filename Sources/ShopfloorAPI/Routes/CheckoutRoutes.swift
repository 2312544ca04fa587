import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Checkout on a cart known by its id: details, shipping choices and completion (public, like the
/// cart itself; a manual payment needs a pos or admin key).
struct CheckoutRoutes {
    let checkout: CheckoutService

    func register(on router: inout Router) {
        router.on(.patch, "/v1/carts/{id}") { request, context in
            let input = try request.decode(CheckoutDTO.self)
            if let shopper = context.customer, let named = input.customerID, named != shopper.rawValue {
                // A signed-in shopper may not hand a cart to another customer.
                throw CustomerError.notYours
            }
            var details = input.details
            details.customerVerified = context.vouchesForCustomer
            return try JSON.response(try await checkout.update(CartID(rawValue: try context.parameter("id")), with: details))
        }
        router.on(.get, "/v1/carts/{id}/shipping-methods") { _, context in
            let methods = try checkout.shippingMethods(for: CartID(rawValue: try context.parameter("id")))
            return try JSON.response(Page(items: methods, nextCursor: nil))
        }
        router.on(.post, "/v1/carts/{id}/complete") { request, context in
            let input = try request.decode(CompleteCartDTO.self)
            let order = try await checkout.complete(
                CartID(rawValue: try context.parameter("id")), payment: input.request, payer: context.principal,
                request: try request.idempotentRequest())
            return try JSON.response(order, status: .created)
        }
    }
}
