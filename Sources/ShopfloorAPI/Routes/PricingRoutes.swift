import HTTPTypes
import ShopfloorDomain
import ShopfloorTransport

/// Pricing setup for admins: discounts, tax rates, shipping methods and shop settings.
struct PricingRoutes {
    let pricing: PricingService
    let locations: LocationService

    func register(on router: inout Router) {
        router.on(.post, "/v1/discounts") { request, context in
            try context.require(.admin)
            let input = try request.decode(NewDiscountDTO.self)
            return try JSON.response(try await pricing.createDiscount(try input.discount()), status: .created)
        }
        router.on(.get, "/v1/discounts") { _, context in
            try context.require(.admin)
            return try JSON.response(Page(items: pricing.rules.discounts, nextCursor: nil))
        }
        router.on(.post, "/v1/discounts/{id}/disable") { _, context in
            try context.require(.admin)
            return try JSON.response(try await pricing.disableDiscount(DiscountID(rawValue: try context.parameter("id"))))
        }
        router.on(.post, "/v1/tax-rates") { request, context in
            try context.require(.admin)
            let input = try request.decode(NewTaxRateDTO.self)
            let rate = try await pricing.createTaxRate(country: input.country, region: input.region, rateBp: input.rateBp, name: input.name)
            return try JSON.response(rate, status: .created)
        }
        router.on(.get, "/v1/tax-rates") { _, context in
            try context.require(.admin)
            return try JSON.response(Page(items: pricing.rules.taxRates, nextCursor: nil))
        }
        router.on(.post, "/v1/shipping-methods") { request, context in
            try context.require(.admin)
            let input = try request.decode(NewShippingMethodDTO.self)
            var location: Location?
            if let code = input.collectInStore {
                guard let found = try locations.find(code) else { throw ValidationError(field: "collect_in_store", detail: "no location \(code)") }
                location = found
            }
            let method = try await pricing.createShippingMethod(
                name: input.name, price: input.price, countries: input.countries ?? [], freeOver: input.freeOver, collectInStore: location)
            return try JSON.response(method, status: .created)
        }
        router.on(.get, "/v1/shipping-methods") { _, _ in
            try JSON.response(Page(items: pricing.rules.shippingMethods, nextCursor: nil))
        }
        router.on(.get, "/v1/settings") { _, context in
            try context.require(.admin)
            return try JSON.response(pricing.rules.settings)
        }
        router.on(.patch, "/v1/settings") { request, context in
            try context.require(.admin)
            let (input, document) = try request.decodeWithDocument(SettingsDTO.self)
            let clearsReceiptDiscount = document.hasNullMember("receipt_discount")
            let clearsQuietHours = document.hasNullMember("quiet_hours")
            let settings = try await pricing.updateSettings { settings in
                if let value = input.pricesIncludeTax { settings.pricesIncludeTax = value }
                if let value = input.shippingTaxable { settings.shippingTaxable = value }
                if let value = input.shopCountry { settings.shopCountry = value }
                if let value = input.shopRegion { settings.shopRegion = value }
                if let value = input.receiptDiscount { settings.receiptDiscount = value }
                if clearsReceiptDiscount { settings.receiptDiscount = nil }
                if let value = input.timezone { settings.timezone = value }
                if let value = input.activityTracking { settings.activityTracking = value }
                if let value = input.hesitatingAfter { settings.hesitatingAfter = value }
                if let value = input.hiddenHesitatingAfter { settings.hiddenHesitatingAfter = value }
                if let value = input.emailCapHours { settings.emailCapHours = value }
                if let value = input.smsCapHours { settings.smsCapHours = value }
                if let value = input.pushCapHours { settings.pushCapHours = value }
                if let value = input.quietHours { settings.quietHours = value }
                if clearsQuietHours { settings.quietHours = nil }
                if let value = input.posServesOnline { settings.posServesOnline = value }
            }
            return try JSON.response(settings)
        }
    }
}
