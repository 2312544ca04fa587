import ShopfloorDomain
import ShopfloorJSON

/// The shop `make run` starts with (`--demo`): a few products with stock at `main` (two of them
/// one-offs, so the last unit going to one cart is there to see), 20 % VAT included in the prices as
/// UK shops show them, and standard shipping to the UK. Made only when the catalogue is empty, through the same services the API uses, so a
/// newcomer opening `/shop/` and `/admin/` sees the live cart story at once and a shop with its own
/// products is never touched.
struct DemoShop {
    let catalogue: CatalogueService
    let pricing: PricingService
    let currency: Currency

    /// Stocks the shop when it has no products; `true` when it did.
    func stockIfEmpty() async throws -> Bool {
        var first = ProductQuery()
        first.limit = 1
        guard try catalogue.products(first).items.isEmpty else { return false }
        let products = try JSONCoding.decode([NewProduct].self, from: Array(Self.products(in: currency).utf8))
        _ = try await catalogue.create(products, actor: "demo")
        _ = try await pricing.updateSettings { settings in
            settings.pricesIncludeTax = true
            settings.shopCountry = "GB"
            settings.timezone = "Europe/London"
        }
        _ = try await pricing.createTaxRate(country: "GB", region: nil, rateBp: 2000, name: "VAT")
        _ = try await pricing.createShippingMethod(
            name: "Standard delivery", price: Money(amount: 395, currency: currency), countries: ["GB"],
            freeOver: Money(amount: 5000, currency: currency), collectInStore: nil)
        return true
    }

    /// The demo catalogue as `POST /v1/products/import` would take it, priced in `currency`.
    static func products(in currency: Currency) -> String {
        func price(_ amount: Int) -> String { #"{"amount":\#(amount),"currency":"\#(currency.code)"}"# }
        return """
        [
          {"title":"Walnut serving bowl","description":"Turned from one piece of English walnut, oiled. One of a kind.","category":"kitchen",
           "tags":["handmade","wood"],"variants":[{"sku":"BOWL-WALNUT-1","price":\(price(4800)),"barcode":"5012345678900","initial_stock":{"main":1}}]},
          {"title":"Stoneware mug","description":"Thrown on the wheel, glazed in three colours.","category":"kitchen","tags":["handmade","ceramics"],
           "variants":[
             {"sku":"MUG-BLUE","title":"Blue","price":\(price(1200)),"attributes":{"colour":"blue"},"barcode":"5012345678917","initial_stock":{"main":12}},
             {"sku":"MUG-SAND","title":"Sand","price":\(price(1200)),"attributes":{"colour":"sand"},"initial_stock":{"main":8}},
             {"sku":"MUG-MOSS","title":"Moss","price":\(price(1200)),"attributes":{"colour":"moss"},"initial_stock":{"main":3}}]},
          {"title":"Linen apron","description":"Washed linen with a deep front pocket.","category":"textiles","tags":["linen"],
           "variants":[
             {"sku":"APRON-S","title":"Small","price":\(price(3200)),"attributes":{"size":"S"},"initial_stock":{"main":4}},
             {"sku":"APRON-M","title":"Medium","price":\(price(3200)),"attributes":{"size":"M"},"initial_stock":{"main":6}},
             {"sku":"APRON-L","title":"Large","price":\(price(3200)),"attributes":{"size":"L"},"initial_stock":{"main":2}}]},
          {"title":"Oak chopping board","description":"End-grain oak, 30 × 20 cm.","category":"kitchen","tags":["wood"],
           "variants":[{"sku":"BOARD-OAK","price":\(price(3900)),"initial_stock":{"main":5}}]},
          {"title":"Beeswax candle pair","description":"Hand-dipped, about eight hours each.","category":"home","tags":["candles"],
           "variants":[{"sku":"CANDLE-PAIR","price":\(price(1400)),"initial_stock":{"main":20}}]},
          {"title":"Hand-bound notebook","description":"A5, 120 pages of cotton paper, stitched by hand. One left.","category":"paper",
           "tags":["handmade","paper"],"variants":[{"sku":"NOTEBOOK-A5-1","price":\(price(2600)),"initial_stock":{"main":1}}]}
        ]
        """
    }
}
