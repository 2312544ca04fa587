/// The line-level grammar both directions of HTTP/1.1 share, so the server's request decoder and the
/// client's response decoder accept exactly the same field lines and chunk-size lines.
enum HTTPSyntax {
    /// Splits `name: value`, checking the name is a token and the value holds no control characters
    /// (RFC 9110 §5.5). A line starting with whitespace is obs-fold, rejected per RFC 9112 §5.2.
    static func fieldLine(_ line: ArraySlice<UInt8>) -> (name: Range<Int>, value: Range<Int>)? {
        guard let colon = line.firstIndex(of: .colon), colon > line.startIndex else { return nil }
        let name = line.startIndex..<colon
        guard line[name].allSatisfy(\.isTokenCharacter) else { return nil }
        var valueStart = colon + 1
        var valueEnd = line.endIndex
        while valueStart < valueEnd, line[valueStart].isOWS { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1].isOWS { valueEnd -= 1 }
        guard line[valueStart..<valueEnd].allSatisfy({ $0 == .tab || ($0 >= 0x20 && $0 != 0x7F) }) else { return nil }
        return (name, valueStart..<valueEnd)
    }

    /// The size in `chunk-size [ chunk-ext ]` (RFC 9112 §7.1), the line without its CRLF; `nil` when the
    /// size is not hex, has more than 15 digits (so it fits an `Int`), or the extensions hold control
    /// characters. Extensions are skipped, as §7.1.1 lets a recipient do with those it does not know.
    static func chunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        let digits = line.prefix { $0.hexValue != nil }
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        let rest = line[digits.endIndex...]
        let extensionStart = rest.drop { $0.isOWS }
        guard extensionStart.isEmpty || extensionStart.first == .semicolon else { return nil }
        guard rest.allSatisfy({ $0 == .tab || ($0 >= 0x20 && $0 != 0x7F) }) else { return nil }
        return digits.reduce(0) { $0 << 4 | Int($1.hexValue!) }
    }
}
