import Foundation
import Mustache
import Synchronization

/// The templates messages are rendered from: the shipped ones (``ShippedTemplates``) with the shop's
/// edits over them, compiled once and kept in memory, since every message is rendered inside its
/// cause's transaction on the writer thread.
///
/// Values are escaped for HTML in the HTML part only: the subject and text part are compiled with
/// Mustache's `TEXT` content type, so a customer called `Tom & Jerry` reads as such in both.
public final class MessageTemplates: Sendable {
    private struct Compiled: Sendable {
        var source: TemplateText
        var subject: MustacheTemplate?
        var text: MustacheTemplate
        var html: MustacheTemplate?
        var short: MustacheTemplate?
    }

    /// By name, then by locale (`""` for the default).
    private let compiled: Mutex<[String: [String: Compiled]]>

    /// The shipped templates, with `overrides` (the stored edits) in their place.
    public init(overrides: [TemplateText]) throws {
        var all: [String: [String: Compiled]] = [:]
        for template in ShippedTemplates.all + overrides {
            all[template.name, default: [:]][template.locale] = try Self.compile(template)
        }
        compiled = Mutex(all)
    }

    /// The names of the templates there are.
    public static var names: [String] { ShippedTemplates.all.map(\.name) }

    /// Every template and its variants, by name then locale.
    public func all() -> [TemplateText] {
        compiled.withLock { all in
            all.keys.sorted().flatMap { name in all[name]!.keys.sorted().map { all[name]![$0]!.source } }
        }
    }

    /// Checks that `template` compiles (throwing ``MessageError/invalidTemplate(_:)`` otherwise) and
    /// returns it ready to ``install(_:)``.
    public static func validated(_ template: TemplateText) throws -> TemplateText {
        _ = try compile(template)
        return template
    }

    /// Puts `template` in use for messages rendered from now on.
    public func install(_ template: TemplateText) throws {
        let ready = try Self.compile(template)
        compiled.withLock { $0[template.name, default: [:]][template.locale] = ready }
    }

    /// Renders template `name` in the variant closest to `locale` (exact, then its language, then
    /// the default) with `data`, a tree of dictionaries, arrays, strings and numbers.
    public func render(_ name: String, locale: String?, data: [String: Any]) throws -> RenderedMessage {
        let chosen: Compiled? = compiled.withLock { all in
            guard let variants = all[name] else { return nil }
            let wanted = locale ?? ""
            let language = String(wanted.prefix { $0 != "-" && $0 != "_" })
            return variants[wanted] ?? variants[language] ?? variants[""]
        }
        guard let chosen else { throw MessageError.unknownTemplate(name) }
        return RenderedMessage(
            subject: chosen.subject.map { Self.oneLine($0.render(data)) }, text: chosen.text.render(data), html: chosen.html?.render(data),
            short: chosen.short?.render(data))
    }

    private static func compile(_ template: TemplateText) throws -> Compiled {
        guard ShippedTemplates.all.contains(where: { $0.name == template.name }) else { throw MessageError.unknownTemplate(template.name) }
        func parse(_ source: String, _ part: String, html: Bool) throws -> MustacheTemplate {
            do {
                return try MustacheTemplate(string: html ? source : "{{% CONTENT_TYPE: TEXT}}" + source)
            } catch {
                throw MessageError.invalidTemplate("the \(part) does not parse: \(error)")
            }
        }
        return Compiled(
            source: template, subject: try template.subject.map { try parse($0, "subject", html: false) },
            text: try parse(template.text, "text", html: false), html: try template.html.map { try parse($0, "html", html: true) },
            short: try template.short.map { try parse($0, "short", html: false) })
    }

    /// A subject is one line: whatever a value brought in (a line break in a name) becomes a space.
    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 }).trimmingCharacters(in: .whitespaces)
    }
}
