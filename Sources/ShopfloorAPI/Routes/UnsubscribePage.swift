import ShopfloorDomain

/// The page an unsubscribe link opens: it names the address and channel and asks for one press of a
/// button, which posts the RFC 8058 form back to the same link. Plain HTML, no script, nothing fetched.
enum UnsubscribePage {
    static func html(token: String, address: String, channel: MessageChannel) -> String {
        let what = switch channel {
        case .email: "marketing email"
        case .sms: "marketing text messages"
        case .push: "marketing notifications"
        }
        return """
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>Unsubscribe</title></head>
            <body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">
            <h1>Unsubscribe</h1>
            <p>Stop \(what) to <strong>\(HTMLText.escape(address))</strong>? Order and account messages still arrive.</p>
            <form method="post" action="/v1/unsubscribe/\(HTMLText.escape(token))">
            <input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit">Unsubscribe</button>
            </form>
            </body>
            </html>

            """
    }

    /// The answer once the button was pressed.
    static func done(address: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Unsubscribed</title></head>
        <body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">
        <h1>Unsubscribed</h1>
        <p><strong>\(HTMLText.escape(address))</strong> gets no more marketing from us.</p>
        </body>
        </html>

        """
    }
}
