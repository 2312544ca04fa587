import Foundation

/// FTS5 query text built from words the caller already split into letters and digits.
enum FullTextQuery {
    /// Each word quoted (so no FTS syntax leaks through) and matched as a prefix, all required.
    static func allPrefixes(_ words: [String]) -> String {
        words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " ")
    }
}
