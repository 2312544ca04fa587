/// A message template as written: Mustache for the subject (email only), the text part (always) and
/// the HTML part (email, optional). The `locale` is a BCP 47 tag, or empty for the default variant.
public struct TemplateText: Sendable, Equatable {
    public var name: String
    public var locale: String
    public var subject: String?
    public var text: String
    public var html: String?
    /// When the shop last changed it; `nil` for a shipped template.
    public var updatedAt: String?

    public init(name: String, locale: String = "", subject: String?, text: String, html: String?, updatedAt: String? = nil) {
        self.name = name
        self.locale = locale
        self.subject = subject
        self.text = text
        self.html = html
        self.updatedAt = updatedAt
    }
}

/// A template rendered for one message.
public struct RenderedMessage: Sendable, Equatable {
    public var subject: String?
    public var text: String
    public var html: String?
}
