import HTTPTypes
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorTransport

/// Shopper accounts for storefronts (API.md, Shopper accounts): sign-in by an emailed code, signing
/// out, and the signed-in shopper's own record, orders, carts, till pass and consent. Every `me` route
/// reads only the customer the token names; another customer's order is "not found", never "forbidden",
/// so ids cannot be probed.
struct ShopperAccountRoutes {
    let shoppers: ShopperAuthService
    let customers: CustomerService

    func register(on router: inout Router) {
        router.on(.post, "/v1/auth/code") { request, _ in
            let body = try request.decode(CodeRequestBody.self)
            try await shoppers.requestCode(email: body.email)
            return try JSON.response(CodeSentDTO(), status: .accepted)
        }
        router.on(.post, "/v1/auth/session") { request, _ in
            let body = try request.decode(SessionBody.self)
            guard body.code.utf8.count == 6, body.code.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                throw CustomerError.codeRejected
            }
            let session = try await shoppers.signIn(email: body.email, code: body.code)
            return try JSON.response(SessionDTO(token: session.token, expiresAt: session.expiresAt, customer: try dto(session.customer)),
                                     status: .created)
        }
        router.on(.delete, "/v1/auth/session") { request, context in
            _ = try context.requireCustomer()
            guard let header = request.head.headerFields[.authorization], let token = header.split(separator: " ").last else {
                throw APIError.unauthorized
            }
            try await shoppers.signOut(String(token))
            return HTTPServerResponse(status: .noContent)
        }
        router.on(.get, "/v1/me") { _, context in
            try JSON.response(try dto(try customers.customer(try context.requireCustomer())))
        }
        router.on(.patch, "/v1/me") { request, context in
            let id = try context.requireCustomer()
            let (body, document) = try request.decodeWithDocument(CustomerBody.self)
            if body.email != nil || document.hasNullMember("email") {
                throw ValidationError(field: "email", detail: "is the address you sign in with and cannot be changed here")
            }
            var fields = body.fields(document, clearing: true)
            // The shop's own: not the shopper's to write.
            fields.tags = nil
            fields.note = nil
            return try JSON.response(try dto(try await customers.update(id, with: fields)))
        }
        router.on(.get, "/v1/me/orders") { request, context in
            let id = try context.requireCustomer()
            let page = try customers.orders(of: id, limit: try request.limit(), before: try CustomerRoutes.cursor(request))
            return try JSON.response(page)
        }
        router.on(.get, "/v1/me/orders/{id}") { _, context in
            let id = try context.requireCustomer()
            let orderID = OrderID(rawValue: try context.parameter("id"))
            guard let order = try customers.order(orderID), order.customerID == id.rawValue else {
                throw CheckoutError.notFound("order \(orderID)")
            }
            return try JSON.response(order)
        }
        router.on(.get, "/v1/me/carts") { _, context in
            let id = try context.requireCustomer()
            return try JSON.response(Page(items: try customers.openCarts(of: id), nextCursor: nil))
        }
        router.on(.get, "/v1/me/pass") { _, context in
            let id = try context.requireCustomer()
            let pass = shoppers.pass(for: id)
            return try JSON.response(PassDTO(pass: pass.pass, expiresAt: pass.expiresAt))
        }
        router.on(.put, "/v1/me/consent/{channel}") { request, context in
            let id = try context.requireCustomer()
            let channel = try CustomerRoutes.channel(try context.parameter("channel"))
            let body = try request.decode(MyConsentBody.self)
            let consent = try await customers.setConsent(id, channel: channel, state: body.state, level: nil, source: "account")
            return try JSON.response(ConsentDTO(consent, channel: channel))
        }
    }

    /// The shopper's own view of their record: everything but the staff's note.
    private func dto(_ customer: Customer) throws -> CustomerDTO {
        CustomerDTO(customer, currency: customers.currency, views: try customers.views(of: customer.id), showsNote: false)
    }
}

private struct CodeRequestBody: Decodable {
    var email: String
}

private struct CodeSentDTO: Encodable {
    var sent = true
}

private struct SessionBody: Decodable {
    var email: String
    var code: String
}

private struct SessionDTO: Encodable {
    var token: String
    var expiresAt: String
    var customer: CustomerDTO
}

private struct PassDTO: Encodable {
    var pass: String
    var expiresAt: String
}

private struct MyConsentBody: Decodable {
    var state: Consent.State
}
