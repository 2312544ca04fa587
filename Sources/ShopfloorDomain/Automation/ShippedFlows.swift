import ShopfloorJSON

/// The flows the binary ships (API.md, Automation), made as drafts on the first start so a shop
/// switches on what it wants (`PATCH /v1/flows/{id}` `{"status":"active"}`) and edits the rest.
enum ShippedFlows {
    static let all: [(name: String, definition: String)] = [
        ("Abandoned cart", """
            {"trigger":{"type":"cart.abandoned","after":"1h"},"steps":[
              {"send":{"channel":"push","template":"abandoned_cart","fallback":["sms","email"]}},
              {"wait":"3h"},
              {"send":{"channel":"sms","template":"abandoned_cart","fallback":["email"]}},
              {"wait":"20h"},
              {"offer":{"kind":"percent","value":10,"expires_in":"3d"}},
              {"send":{"channel":"email","template":"abandoned_cart"}}],
             "exit_on":["order.placed","cart.emptied"]}
            """),
        ("Abandoned checkout", """
            {"trigger":{"type":"checkout.abandoned","after":"30m"},"steps":[
              {"send":{"channel":"email","template":"abandoned_cart","fallback":["push"]}},
              {"wait":"1d"},
              {"offer":{"kind":"free_shipping","expires_in":"2d"}},
              {"send":{"channel":"email","template":"abandoned_cart"}}],
             "exit_on":["order.placed","cart.emptied"]}
            """),
        ("Replenishment", """
            {"trigger":{"type":"replenishment.due"},"steps":[
              {"send":{"channel":"email","template":"replenishment","fallback":["push"]}},
              {"wait":"2d"},
              {"if":{"message":"not_opened"},"then":[{"send":{"channel":"email","template":"replenishment"}}],"else":[
                {"wait":"1d"},
                {"if":{"message":"opened_not_clicked"},"then":[{"send":{"channel":"email","template":"replenishment"}}],"else":[
                  {"if":{"proposal":"open"},"then":[{"send":{"channel":"email","template":"replenishment"}}]}]}]}]}
            """),
        ("Back in stock", """
            {"trigger":{"type":"back_in_stock"},"steps":[
              {"send":{"channel":"push","template":"back_in_stock","fallback":["email"]}}]}
            """),
        ("Post-purchase follow-up", """
            {"trigger":{"type":"order.delivered"},"steps":[
              {"wait":"3d"},
              {"send":{"channel":"email","template":"order_follow_up","transactional":true}}],
             "exit_on":[]}
            """),
    ]

    /// Each shipped flow's definition, parsed as the shop's would be.
    static func documents() throws -> [(name: String, document: JSONValue)] {
        try all.map { name, text in (name, try JSONParser.parse(Array(text.utf8))) }
    }
}
