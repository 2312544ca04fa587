/// A message template as written: Mustache for the subject (email, and a push notification's title),
/// the text part (always), the HTML part (email, optional) and the short part (SMS and push: a
/// sentence or two; without it they send the text part). The `locale` is a BCP 47 tag, or empty for
/// the default variant.
public struct TemplateText: Sendable, Equatable {
    public var name: String
    public var locale: String
    public var subject: String?
    public var text: String
    public var html: String?
    public var short: String?
    /// When the shop last changed it; `nil` for a shipped template.
    public var updatedAt: String?

    public init(name: String, locale: String = "", subject: String?, text: String, html: String?, short: String? = nil, updatedAt: String? = nil) {
        self.name = name
        self.locale = locale
        self.subject = subject
        self.text = text
        self.html = html
        self.short = short
        self.updatedAt = updatedAt
    }
}

/// A template rendered for one message.
public struct RenderedMessage: Sendable, Equatable {
    public var subject: String?
    public var text: String
    public var html: String?
    public var short: String?
}
