import Testing
@testable import ShopfloorDomain

/// The shipped templates render; values are escaped in HTML only; edits are checked and take over.
struct MessageTemplatesTests {
    static var samples: [String: [String: Any]] { [
        "order_confirmation": ["order": ["number": "#1001", "total": "10.00 GBP", "lines": [["title": "Mug", "quantity": 1, "line_total": "10.00 GBP"]]],
                               "customer": ["first_name": "Ada"], "shop": ["name": "Shop"], "tracking_url": "https://x.example/t"],
        "order_status": ["order": ["number": "#1001", "tracking_number": "TRK"], "status_text": "on its way", "shop": ["name": "Shop"],
                         "tracking_url": "https://x.example/t", "customer": [:] as [String: Any]],
        "receipt": ["order": ["number": "#1001", "total": "10.00 GBP", "lines": [] as [Any]], "discount_code": "THANKS10", "discount_text": "10 % off",
                    "discount_expires_at": "2027-01-05", "shop": ["name": "Shop"]],
        "sign_in_code": ["code": "123456", "shop": ["name": "Shop"]],
        "abandoned_cart": ["cart": ["lines": [["title": "Mug", "quantity": 2]]], "cart_url": "https://x.example/c", "shop": ["name": "Shop"]],
        "replenishment": ["items": [["title": "Coffee", "quantity": 1]], "proposal_url": "https://x.example/p"],
        "back_in_stock": ["product": ["title": "Mug"], "product_url": "https://x.example/m", "shop": ["name": "Shop"]],
        "order_follow_up": ["customer": ["first_name": "Ada"], "order": ["number": "#1001"], "tracking_url": "https://x.example/t", "shop": ["name": "Shop"]],
        "campaign": ["customer": ["first_name": "Ada"], "shop": ["name": "Shop"], "shop_url": "https://x.example/shop/"],
    ] }

    @Test(arguments: MessageTemplates.names)
    func everyShippedTemplateRendersWithItsValues(name: String) throws {
        let templates = try MessageTemplates(overrides: [])
        let rendered = try templates.render(name, locale: nil, data: try #require(Self.samples[name]))
        #expect(!rendered.text.isEmpty)
        #expect(rendered.subject?.isEmpty == false)
        #expect(rendered.html?.isEmpty == false)
        #expect(!rendered.text.contains("{{"))
    }

    @Test func valuesAreEscapedInHTMLOnly() throws {
        let templates = try MessageTemplates(overrides: [])
        var data = try #require(Self.samples["order_status"])
        data["customer"] = ["first_name": "Tom & <Jerry>"]
        data["status_text"] = "on its way\r\nBcc: x@evil.example"
        let rendered = try templates.render("order_status", locale: nil, data: data)
        #expect(rendered.text.contains("Hello Tom & <Jerry>,"))
        #expect(rendered.html?.contains("Hello Tom &amp; &lt;Jerry&gt;,") == true)
        // A subject is one line, whatever a value brings.
        #expect(rendered.subject?.contains(where: \.isNewline) == false)
    }

    @Test func anEditTakesOverForItsLocaleAndABrokenOneIsRefused() throws {
        let templates = try MessageTemplates(overrides: [
            TemplateText(name: "sign_in_code", locale: "de", subject: "Ihr Code", text: "Code: {{code}}", html: nil, updatedAt: "2026-12-06T00:00:00Z"),
        ])
        #expect(try templates.render("sign_in_code", locale: "de-AT", data: ["code": "42"]).text == "Code: 42")
        #expect(try templates.render("sign_in_code", locale: "fr", data: ["code": "42"]).text.hasPrefix("Your code is 42."))
        #expect(throws: MessageError.self) {
            try MessageTemplates.validated(TemplateText(name: "sign_in_code", subject: nil, text: "{{#code}}never closed", html: nil))
        }
        #expect(throws: MessageError.unknownTemplate("nope")) {
            try MessageTemplates.validated(TemplateText(name: "nope", subject: nil, text: "x", html: nil))
        }
    }
}
