/// The templates the binary ships (API.md, Messages): what every message says until the shop edits
/// it with `PUT /v1/templates/{name}`. Text parts are plain; HTML parts escape every value.
enum ShippedTemplates {
    static let all: [TemplateText] = [orderConfirmation, orderStatus, receipt, signInCode, abandonedCart, replenishment, backInStock, orderFollowUp, campaign]

    static let orderConfirmation = TemplateText(
        name: "order_confirmation",
        subject: "Your order {{order.number}} at {{shop.name}}",
        text: """
            Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},

            thank you for your order {{order.number}}. We will let you know as it moves along.

            {{#order.lines}}
            {{quantity}} x {{title}}: {{line_total}}
            {{/order.lines}}

            Total: {{order.total}}

            Follow your order: {{tracking_url}}

            {{shop.name}}
            """,
        html: """
            <p>Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},</p>
            <p>thank you for your order <strong>{{order.number}}</strong>. We will let you know as it moves along.</p>
            <table>{{#order.lines}}<tr><td>{{quantity}} &times; {{title}}</td><td>{{line_total}}</td></tr>{{/order.lines}}</table>
            <p>Total: <strong>{{order.total}}</strong></p>
            <p><a href="{{tracking_url}}">Follow your order</a></p>
            <p>{{shop.name}}</p>
            """,
        short: "Thank you for your order {{order.number}} at {{shop.name}}. Follow it: {{tracking_url}}")

    static let orderStatus = TemplateText(
        name: "order_status",
        subject: "Your order {{order.number}} is {{status_text}}",
        text: """
            Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},

            your order {{order.number}} is {{status_text}}.
            {{#order.tracking_number}}
            Tracking number: {{order.tracking_number}}
            {{/order.tracking_number}}

            Follow your order: {{tracking_url}}

            {{shop.name}}
            """,
        html: """
            <p>Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},</p>
            <p>your order <strong>{{order.number}}</strong> is {{status_text}}.</p>
            {{#order.tracking_number}}<p>Tracking number: <strong>{{order.tracking_number}}</strong></p>{{/order.tracking_number}}
            <p><a href="{{tracking_url}}">Follow your order</a></p>
            <p>{{shop.name}}</p>
            """,
        short: "Your order {{order.number}} is {{status_text}}.{{#order.tracking_number}} Tracking number: {{order.tracking_number}}.{{/order.tracking_number}} {{tracking_url}}")

    static let receipt = TemplateText(
        name: "receipt",
        subject: "Your receipt {{order.number}} from {{shop.name}}",
        text: """
            Thank you for shopping with us.

            {{#order.lines}}
            {{quantity}} x {{title}}: {{line_total}}
            {{/order.lines}}

            Total: {{order.total}}
            {{#discount_code}}

            Use {{discount_code}} online for {{discount_text}}, until {{discount_expires_at}}.
            {{/discount_code}}

            {{shop.name}}
            """,
        html: """
            <p>Thank you for shopping with us.</p>
            <table>{{#order.lines}}<tr><td>{{quantity}} &times; {{title}}</td><td>{{line_total}}</td></tr>{{/order.lines}}</table>
            <p>Total: <strong>{{order.total}}</strong></p>
            {{#discount_code}}<p>Use <strong>{{discount_code}}</strong> online for {{discount_text}}, until {{discount_expires_at}}.</p>{{/discount_code}}
            <p>{{shop.name}}</p>
            """,
        short: "Thank you for shopping at {{shop.name}}: {{order.total}}.{{#discount_code}} Use {{discount_code}} online for {{discount_text}}, until {{discount_expires_at}}.{{/discount_code}}")

    static let signInCode = TemplateText(
        name: "sign_in_code",
        subject: "Your sign-in code for {{shop.name}}",
        text: """
            Your code is {{code}}. It is valid for 10 minutes.

            If you did not ask for it, you can ignore this message.
            """,
        html: """
            <p>Your code is <strong>{{code}}</strong>. It is valid for 10 minutes.</p>
            <p>If you did not ask for it, you can ignore this message.</p>
            """,
        short: "Your {{shop.name}} code is {{code}}. It is valid for 10 minutes.")

    static let abandonedCart = TemplateText(
        name: "abandoned_cart",
        subject: "You left something in your basket",
        text: """
            Your basket at {{shop.name}} is waiting for you:

            {{#cart.lines}}
            {{quantity}} x {{title}}
            {{/cart.lines}}
            {{#offer}}

            Use {{offer.code}} for {{offer.text}}, until {{offer.expires_at}}.
            {{/offer}}

            Pick up where you left off: {{cart_url}}
            """,
        html: """
            <p>Your basket at {{shop.name}} is waiting for you:</p>
            <ul>{{#cart.lines}}<li>{{quantity}} &times; {{title}}</li>{{/cart.lines}}</ul>
            {{#offer}}<p>Use <strong>{{offer.code}}</strong> for {{offer.text}}, until {{offer.expires_at}}.</p>{{/offer}}
            <p><a href="{{cart_url}}">Pick up where you left off</a></p>
            """,
        short: "Your basket at {{shop.name}} is waiting for you:{{#offer}} {{offer.code}} gives {{offer.text}}.{{/offer}} {{cart_url}}")

    static let replenishment = TemplateText(
        name: "replenishment",
        subject: "Time to stock up?",
        text: """
            By our count you may be running low on:

            {{#items}}
            {{quantity}} x {{title}}
            {{/items}}

            Your basket is ready; confirm it with one click: {{proposal_url}}
            """,
        html: """
            <p>By our count you may be running low on:</p>
            <ul>{{#items}}<li>{{quantity}} &times; {{title}}</li>{{/items}}</ul>
            <p><a href="{{proposal_url}}">Confirm with one click</a></p>
            """,
        short: "Time to stock up? Your basket is ready: {{proposal_url}}")

    static let backInStock = TemplateText(
        name: "back_in_stock",
        subject: "{{product.title}} is back",
        text: """
            {{product.title}} is back in stock at {{shop.name}}: {{product_url}}
            """,
        html: """
            <p><a href="{{product_url}}">{{product.title}}</a> is back in stock at {{shop.name}}.</p>
            """,
        short: "{{product.title}} is back in stock at {{shop.name}}: {{product_url}}")

    /// The shipped post-purchase flow's note a few days after an order reached the customer.
    static let orderFollowUp = TemplateText(
        name: "order_follow_up",
        subject: "How is your order {{order.number}}?",
        text: """
            Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},

            we hope you are happy with your order {{order.number}} from {{shop.name}}. If anything is not right, just reply to this message.

            Your order: {{tracking_url}}

            {{shop.name}}
            """,
        html: """
            <p>Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},</p>
            <p>we hope you are happy with your order <strong>{{order.number}}</strong> from {{shop.name}}. If anything is not right, just reply to this message.</p>
            <p><a href="{{tracking_url}}">Your order</a></p>
            <p>{{shop.name}}</p>
            """,
        short: "How is your order {{order.number}} from {{shop.name}}? {{tracking_url}}")

    /// What a campaign says until the shop writes its own (`PUT /v1/templates/campaign`).
    static let campaign = TemplateText(
        name: "campaign",
        subject: "News from {{shop.name}}",
        text: """
            Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},

            there is something new at {{shop.name}}: {{shop_url}}
            """,
        html: """
            <p>Hello {{#customer.first_name}}{{customer.first_name}}{{/customer.first_name}}{{^customer.first_name}}there{{/customer.first_name}},</p>
            <p>there is something new at <a href="{{shop_url}}">{{shop.name}}</a>.</p>
            """,
        short: "Something new at {{shop.name}}: {{shop_url}}")
}

