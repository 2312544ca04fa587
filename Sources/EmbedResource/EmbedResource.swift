import Foundation

/// `EmbedResource INPUT OUTPUT NAME` writes a Swift file declaring `let NAME: String` holding INPUT's
/// text, as a raw string literal whose delimiter cannot occur in the text.
@main
struct EmbedResource {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 4 else {
            FileHandle.standardError.write(Data("usage: EmbedResource INPUT OUTPUT NAME\n".utf8))
            exit(2)
        }
        let text = try String(contentsOfFile: arguments[1], encoding: .utf8)
        var hashes = "#"
        while text.contains("\"" + hashes) || text.contains("\\" + hashes) { hashes += "#" }
        let source = "// Generated from \((arguments[1] as NSString).lastPathComponent) at build time. Do not edit.\n"
            + "let \(arguments[3]): String = \(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)\n"
        try source.write(toFile: arguments[2], atomically: true, encoding: .utf8)
    }
}
