import Foundation

/// `EmbedResource INPUT OUTPUT NAME` writes a Swift file declaring `let NAME: String` holding INPUT's
/// text; `EmbedResource --directory DIR OUTPUT NAME` one declaring `let NAME: [String: String]`, every
/// file under DIR by its path relative to DIR (`shop/index.html`). Each text is a raw string literal
/// whose delimiter cannot occur in it. Files must be UTF-8 text: the pages are HTML, CSS, JavaScript
/// and SVG, written by hand.
@main
struct EmbedResource {
    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let directory = arguments.first == "--directory"
        if directory { arguments.removeFirst() }
        guard arguments.count == 3 else {
            FileHandle.standardError.write(Data("usage: EmbedResource [--directory] INPUT OUTPUT NAME\n".utf8))
            exit(2)
        }
        let (input, output, name) = (arguments[0], arguments[1], arguments[2])
        var source = "// Generated from \((input as NSString).lastPathComponent) at build time. Do not edit.\n"
        if directory {
            source += "let \(name): [String: String] = [\n"
            for path in try files(under: input) {
                let text = try String(contentsOfFile: (input as NSString).appendingPathComponent(path), encoding: .utf8)
                let key = path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                source += "    \"\(key)\": \(literal(text)),\n"
            }
            source += "]\n"
        } else {
            source += "let \(name): String = \(literal(try String(contentsOfFile: input, encoding: .utf8)))\n"
        }
        try source.write(toFile: output, atomically: true, encoding: .utf8)
    }

    /// Regular files under `root`, relative and sorted, hidden ones left out.
    static func files(under root: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [String] = []
        while let path = walker.nextObject() as? String {
            let isHidden = path.split(separator: "/").contains { $0.hasPrefix(".") }
            var isDirectory: ObjCBool = false
            if !isHidden, FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(path), isDirectory: &isDirectory),
               !isDirectory.boolValue {
                found.append(path)
            }
        }
        return found.sorted()
    }

    /// `text` as a multi-line raw string literal.
    static func literal(_ text: String) -> String {
        var hashes = "#"
        while text.contains("\"" + hashes) || text.contains("\\" + hashes) { hashes += "#" }
        return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
    }
}
