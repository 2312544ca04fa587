import Foundation
import Synchronization

/// The catalogue's full-text index, held in memory: every word of a search matches as a prefix of a
/// word of a product's title, description, tags or SKUs, and hits rank by BM25.
///
/// Why in memory: a storefront's search box sends a query per keystroke, nearly all of them new, so
/// a cache of answers helps little, and SQLite's FTS5 spent 2–10 ms on a short prefix over 100,000
/// products (it merges the doclists of every word with that prefix, then ranks them all). Here a
/// prefix is a range of a sorted term list, a word's hits add into a score array, and a search of
/// several words walks the postings of its rarest word only, checking the others against each
/// candidate's own terms, whichever of the two costs fewer steps.
///
/// Ranking: a hit's score adds, over the query's words and the product's terms each word is a prefix
/// of, the term's IDF times its BM25 term-frequency weight summed over fields weighted 10 (title),
/// 1 (description), 5 (tags) and 8 (SKUs). Ties go to the older product. BM25 normalises a field's
/// length by the average; here by a fixed length typical of the field (4 words of title, 30 of
/// description, 3 tags, 3 SKUs), so a product's weights do not depend on what was indexed before it
/// and never need computing again.
///
/// Changes arrive as ``Change`` notes of the writer's transactions and are applied once their commit
/// is on disk, before their writers resume (``CatalogueService`` wires this), so a search never finds
/// what a rolled-back write put, and an admin's next search after a change sees it. Each applied
/// batch moves ``version``, which keys the answers ``SearchCache`` keeps.
final class ProductSearchIndex: Sendable {
    /// A change to the index, noted in the transaction that makes it.
    enum Change: Sendable {
        case put(ProductSearchDocument)
        case remove(seq: Int64)
    }

    /// What a hit must also be.
    struct Filter: Sendable {
        var status: Product.Status?
        var category: String?
        var tag: String?
        /// Only this product (a barcode's).
        var seq: Int64?
    }

    private let state = ReadWriteLock(State())
    private let scratches = Mutex<[Scratch]>([])

    /// Moves with every applied batch of changes.
    var version: Int { state.read { $0.version } }

    /// Products indexed (removed ones aside).
    var count: Int { state.read { $0.live } }

    /// Terms known, including any no product holds since the last ``compact()``.
    var termCount: Int { state.read { $0.termIDs.count } }

    /// Packs the index tight after loading it.
    func relayout() {
        state.write { $0.relayout() }
    }

    /// Rebuilds the index without what was removed (``apply(_:)`` does so itself when that is much).
    func compact() {
        state.write { $0.compact() }
    }

    func apply(_ changes: [Change]) {
        guard !changes.isEmpty else { return }
        state.write { state in
            for change in changes {
                switch change {
                case .put(let document): state.put(document)
                case .remove(let seq): state.remove(seq: seq)
                }
            }
            state.version += 1
            if state.wantsCompaction { state.compact() }
        }
    }

    /// The hits ranked `offset ..< offset + limit` for `words` (each matched as a prefix, all
    /// required), and whether more follow.
    func search(_ words: [String], filter: Filter, offset: Int, limit: Int) -> (hits: [ProductHit], more: Bool) {
        let scratch = scratches.withLock { $0.popLast() } ?? Scratch()
        defer { scratches.withLock { pool in if pool.count < 16 { pool.append(scratch) } } }
        return state.read { state in
            let ranked = state.search(words.map { Array($0.utf8) }, filter: filter, keep: offset + limit + 1, scratch: scratch)
            let page = ranked.dropFirst(offset).prefix(limit).map { ProductHit(seq: state.seqs[Int($0.ordinal)], id: state.documents[Int($0.ordinal)].id) }
            return (page, ranked.count > offset + limit)
        }
    }
}

// MARK: - Storage

extension ProductSearchIndex {
    /// A product's term and how much it weighs there (fields and frequency, before IDF).
    struct TermWeight {
        var term: Int32
        var weight: Float
    }

    /// A product on a term's list and the term's weight there.
    struct Posting {
        var document: Int32
        var weight: Float
    }

    /// What a hit shows (its id) and what the rarer filters read. Its terms are in `State.forwardTerms`.
    struct Document {
        var id: String
        var category: String?
        var tags: [String]
    }

    /// Per-search working memory, reused: a score and a bit per matched word for every document, and
    /// the documents touched, so clearing costs what the search touched.
    ///
    /// `@unchecked Sendable`: a scratch is used by one search at a time; the pool hands it out and
    /// takes it back under its mutex.
    final class Scratch: @unchecked Sendable {
        var scores: [Float] = []
        var masks: [UInt16] = []
        var touched: [Int32] = []
        /// A bit per term, for the word being checked; all clear between uses.
        var termBits: [UInt64] = []

        func prepare(documents: Int, terms: Int) {
            if scores.count < documents {
                scores += repeatElement(0, count: documents - scores.count)
                masks += repeatElement(0, count: documents - masks.count)
            }
            if termBits.count * 64 < terms { termBits += repeatElement(0, count: terms / 64 + 1 - termBits.count) }
            touched.removeAll(keepingCapacity: true)
        }

        /// Clears what a search left.
        func clear() {
            for ordinal in touched {
                scores[Int(ordinal)] = 0
                masks[Int(ordinal)] = 0
            }
            touched.removeAll(keepingCapacity: true)
        }
    }

    struct Ranked {
        var score: Float
        /// Ordinals follow the products' positions (they are given in `seq` order and kept on change).
        var ordinal: Int32

        /// Ranks before `other`: a higher score, or the same and an older product.
        func precedes(_ other: Ranked) -> Bool {
            score > other.score || (score == other.score && ordinal < other.ordinal)
        }
    }

    struct State {
        // Field weights, the field lengths BM25 normalises by, and its constants.
        static let fieldWeights = SIMD4<Float>(10, 1, 5, 8)
        static let referenceLengths = SIMD4<Float>(4, 30, 3, 3)
        static let k1: Float = 1.2
        static let b: Float = 0.75
        /// New terms wait in `recent` (searched one by one) until this many, then merge into `sorted`.
        static let recentLimit = 256

        var version = 0
        var termIDs: [String: Int32] = [:]
        /// The UTF-8 of every term, back to back; a term's bytes start at `termStart` for `termLength`.
        var termBytes: [UInt8] = []
        var termStart: [Int32] = []
        var termLength: [UInt16] = []
        /// By term: the documents holding it, in ordinal order.
        var postings: [[Posting]] = []
        /// By term: how many documents hold it (its postings' count, apart: a search reads it for
        /// every matched term, and this array stays in cache where the lists' headers do not).
        var frequencies: [Int32] = []
        /// Terms no document holds any more (kept until ``compact()``, and used again if they return).
        var unusedTerms = 0
        /// Term ids in byte order of their text, so a prefix is a range.
        var sorted: [Int32] = []
        var recent: [Int32] = []

        var documents: [Document] = []
        /// Each document's `seq`, and its status as a byte (``removed`` once removed, the one mark of
        /// a removed document), apart: the selection loop reads a status for every candidate.
        var seqs: [Int64] = []
        var statuses: [UInt8] = []
        static let removed: UInt8 = 0xFF

        static func code(_ status: Product.Status) -> UInt8 {
            UInt8(Product.Status.allCases.firstIndex(of: status)!)
        }
        /// The live documents' ordinals by `seq`.
        var ordinals: [Int64: Int32] = [:]
        var live: Int { ordinals.count }
        var postingCount: Int { forwardTerms.count - forwardGarbage }
        /// Every document's terms, back to back, with their weights: a document's are `forwardCount` from
        /// `forwardStart`. A changed document's new terms go at the end; `forwardGarbage` counts the
        /// entries no document points at any more, packed away by ``compact()``.
        var forwardTerms: [Int32] = []
        /// Beside `forwardTerms`, entry for entry: a check scans a candidate's terms and reads a
        /// weight only where one matches, so the scan reads half the memory.
        var forwardWeights: [Float] = []
        var forwardStart: [UInt32] = []
        var forwardCount: [UInt16] = []
        var forwardGarbage = 0

        // MARK: Changes

        mutating func put(_ document: ProductSearchDocument) {
            let ordinal: Int32
            if let existing = ordinals[document.seq] {
                ordinal = existing
                unpost(ordinal)
            } else {
                ordinal = Int32(documents.count)
                ordinals[document.seq] = ordinal
                documents.append(Document(id: "", category: nil, tags: []))
                seqs.append(0)
                statuses.append(Self.removed)
                forwardStart.append(0)
                forwardCount.append(0)
            }
            var fields: [[String]] = [[], [], [], []]
            SearchText.appendTerms(of: document.title, to: &fields[0])
            if let description = document.description { SearchText.appendTerms(of: description, to: &fields[1]) }
            for tag in document.tags { SearchText.appendTerms(of: tag, to: &fields[2]) }
            for sku in document.skus { SearchText.appendTerms(of: sku, to: &fields[3]) }
            let lengths = SIMD4<Float>(Float(fields[0].count), Float(fields[1].count), Float(fields[2].count), Float(fields[3].count))

            var occurrences: [(term: Int32, field: Int)] = []
            occurrences.reserveCapacity(fields.reduce(0) { $0 + $1.count })
            for (field, terms) in fields.enumerated() {
                for term in terms { occurrences.append((termID(term), field)) }
            }
            occurrences.sort { $0.term < $1.term }
            var weights: [TermWeight] = []
            var index = 0
            while index < occurrences.count {
                let term = occurrences[index].term
                var frequencies = SIMD4<Float>(repeating: 0)
                while index < occurrences.count, occurrences[index].term == term {
                    frequencies[occurrences[index].field] += 1
                    index += 1
                }
                weights.append(TermWeight(term: term, weight: Self.weight(frequencies, lengths: lengths)))
            }
            for entry in weights { post(ordinal, entry) }
            documents[Int(ordinal)] = Document(id: document.id, category: document.category, tags: document.tags)
            forwardStart[Int(ordinal)] = UInt32(forwardTerms.count)
            forwardCount[Int(ordinal)] = UInt16(weights.count)
            forwardTerms.append(contentsOf: weights.lazy.map(\.term))
            forwardWeights.append(contentsOf: weights.lazy.map(\.weight))
            seqs[Int(ordinal)] = document.seq
            statuses[Int(ordinal)] = Self.code(document.status)
        }

        mutating func remove(seq: Int64) {
            guard let ordinal = ordinals.removeValue(forKey: seq) else { return }
            unpost(ordinal)
            documents[Int(ordinal)] = Document(id: "", category: nil, tags: [])
        }

        /// Rebuilds every list tight, from the documents' own terms: removed documents and terms no
        /// document holds any more go, the rest are numbered again in the same order (documents by
        /// position, terms by their text, so `sorted` is simply every id), and each posting list is
        /// allocated at its size, one after another in the terms' order, so the lists a prefix covers
        /// lie together in memory and a broad prefix's walk reads it mostly in order.
        mutating func compact() {
            mergeRecent()
            var newTerm = [Int32](repeating: -1, count: termStart.count)
            var bytes: [UInt8] = [], starts: [Int32] = [], lengths: [UInt16] = [], counts: [Int32] = []
            var ids: [String: Int32] = [:]
            ids.reserveCapacity(sorted.count)
            termBytes.withUnsafeBufferPointer { arena in
                for old in sorted where frequencies[Int(old)] > 0 {
                    let id = Int32(starts.count)
                    newTerm[Int(old)] = id
                    let text = arena[Int(termStart[Int(old)])..<Int(termStart[Int(old)]) + Int(termLength[Int(old)])]
                    starts.append(Int32(bytes.count))
                    lengths.append(termLength[Int(old)])
                    counts.append(frequencies[Int(old)])
                    bytes.append(contentsOf: text)
                    ids[String(decoding: text, as: UTF8.self)] = id
                }
            }
            var lists = counts.map { count -> [Posting] in
                var list: [Posting] = []
                list.reserveCapacity(Int(count))
                return list
            }
            var kept = State()
            kept.version = version
            for old in documents.indices where statuses[old] != Self.removed {
                let ordinal = Int32(kept.documents.count)
                let start = Int(forwardStart[old]), count = Int(forwardCount[old])
                kept.documents.append(documents[old])
                kept.seqs.append(seqs[old])
                kept.statuses.append(statuses[old])
                kept.ordinals[seqs[old]] = ordinal
                kept.forwardStart.append(UInt32(kept.forwardTerms.count))
                kept.forwardCount.append(UInt16(count))
                for index in start..<start + count {
                    let term = newTerm[Int(forwardTerms[index])]
                    kept.forwardTerms.append(term)
                    kept.forwardWeights.append(forwardWeights[index])
                    lists[Int(term)].append(Posting(document: ordinal, weight: forwardWeights[index]))
                }
            }
            kept.termIDs = ids
            kept.termBytes = bytes
            kept.termStart = starts
            kept.termLength = lengths
            kept.frequencies = counts
            kept.postings = lists
            kept.sorted = Array(0..<Int32(starts.count))
            self = kept
        }

        /// Packs a freshly loaded index in place: the forward lists and each posting list reallocated
        /// at their size, the posting lists one after another in the terms' order (so the lists a
        /// prefix covers lie together and a broad prefix's walk reads memory mostly in order).
        /// Lighter than ``compact()``, which holds a second copy of everything while it runs: a load
        /// has nothing to forget.
        mutating func relayout() {
            mergeRecent()
            for term in sorted.map(Int.init) { postings[term] = Self.exactly(postings[term]) }
            forwardTerms = Self.exactly(forwardTerms)
            forwardWeights = Self.exactly(forwardWeights)
        }

        /// A copy of `array` without the room it grew for.
        private static func exactly<Element>(_ array: [Element]) -> [Element] {
            Array(unsafeUninitializedCapacity: array.count) { buffer, count in
                count = array.withUnsafeBufferPointer { buffer.initialize(fromContentsOf: $0) }
            }
        }

        /// Whether removed documents, dead terms or stale forward entries make up enough of the index
        /// that ``compact()`` (which holds every search back while it runs) is worth its time.
        var wantsCompaction: Bool {
            let dead = documents.count - live
            return (dead > 4096 && dead > live / 2) || (forwardGarbage > 1 << 20 && forwardGarbage * 2 > forwardTerms.count)
                || (unusedTerms > 65_536 && unusedTerms > termIDs.count / 2)
        }

        /// BM25's term-frequency part, per field, weighted by field and summed.
        static func weight(_ frequencies: SIMD4<Float>, lengths: SIMD4<Float>) -> Float {
            var total: Float = 0
            for field in 0..<4 where frequencies[field] > 0 {
                let norm = 1 - b + b * lengths[field] / referenceLengths[field]
                total += fieldWeights[field] * frequencies[field] * (k1 + 1) / (frequencies[field] + k1 * norm)
            }
            return total
        }

        /// Takes a live document's postings out and marks it removed.
        private mutating func unpost(_ ordinal: Int32) {
            guard statuses[Int(ordinal)] != Self.removed else { return }
            let start = Int(forwardStart[Int(ordinal)]), count = Int(forwardCount[Int(ordinal)])
            for term in forwardTerms[start..<start + count] {
                let list = Int(term)
                if let at = Self.position(of: ordinal, in: postings[list]), postings[list][at].document == ordinal {
                    postings[list].remove(at: at)
                    frequencies[list] -= 1
                    if frequencies[list] == 0 { unusedTerms += 1 }
                }
            }
            statuses[Int(ordinal)] = Self.removed
            forwardCount[Int(ordinal)] = 0
            forwardGarbage += count
        }

        private mutating func post(_ ordinal: Int32, _ entry: TermWeight) {
            let list = Int(entry.term)
            let posting = Posting(document: ordinal, weight: entry.weight)
            if let last = postings[list].last, last.document > ordinal {
                let at = Self.position(of: ordinal, in: postings[list]) ?? postings[list].count
                postings[list].insert(posting, at: at)
            } else {
                postings[list].append(posting)
            }
            if frequencies[list] == 0 { unusedTerms -= 1 }
            frequencies[list] += 1
        }

        /// The first position in `list` whose document is not before `ordinal`, or `nil` past the end.
        private static func position(of ordinal: Int32, in list: [Posting]) -> Int? {
            var low = 0, high = list.count
            while low < high {
                let middle = (low + high) / 2
                if list[middle].document < ordinal { low = middle + 1 } else { high = middle }
            }
            return low < list.count ? low : nil
        }

        private mutating func termID(_ term: String) -> Int32 {
            if let id = termIDs[term] { return id }
            let id = Int32(termStart.count)
            termIDs[term] = id
            termStart.append(Int32(termBytes.count))
            termBytes.append(contentsOf: term.utf8)
            termLength.append(UInt16(term.utf8.count))
            postings.append([])
            frequencies.append(0)
            unusedTerms += 1
            recent.append(id)
            if recent.count >= Self.recentLimit { mergeRecent() }
            return id
        }

        /// Sorts the recent terms into `sorted`.
        private mutating func mergeRecent() {
            guard !recent.isEmpty else { return }
            let merged = termBytes.withUnsafeBufferPointer { bytes in
                let added = recent.sorted { compare($0, $1, bytes) < 0 }
                var merged: [Int32] = []
                merged.reserveCapacity(sorted.count + added.count)
                var i = 0, j = 0
                while i < sorted.count || j < added.count {
                    if j == added.count || (i < sorted.count && compare(sorted[i], added[j], bytes) < 0) {
                        merged.append(sorted[i]); i += 1
                    } else {
                        merged.append(added[j]); j += 1
                    }
                }
                return merged
            }
            sorted = merged
            recent.removeAll(keepingCapacity: true)
        }

        private func compare(_ a: Int32, _ b: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
            let lengthA = Int(termLength[Int(a)]), lengthB = Int(termLength[Int(b)])
            let order = memcmp(bytes.baseAddress! + Int(termStart[Int(a)]), bytes.baseAddress! + Int(termStart[Int(b)]), min(lengthA, lengthB))
            return order != 0 ? order : Int32(lengthA - lengthB)
        }

        // MARK: Search

        /// The terms `word` is a prefix of: a range of `sorted` found by two binary searches (no term
        /// in it is read), and any recent term it prefixes.
        func terms(withPrefix word: [UInt8]) -> [Int32] {
            guard !word.isEmpty, !termBytes.isEmpty else { return [] }
            return termBytes.withUnsafeBufferPointer { bytes in
                word.withUnsafeBufferPointer { word in
                    // Where a term falls against `word`: below it, prefixed by it (0), or above it.
                    func order(_ id: Int32) -> Int32 {
                        let length = Int(termLength[Int(id)])
                        let order = memcmp(bytes.baseAddress! + Int(termStart[Int(id)]), word.baseAddress!, min(length, word.count))
                        return order != 0 ? order : (length < word.count ? -1 : 0)
                    }
                    // The first term not below `word`, then the first above every term it prefixes.
                    func boundary(from start: Int, past limit: Int32) -> Int {
                        var low = start, high = sorted.count
                        while low < high {
                            let middle = (low + high) / 2
                            if order(sorted[middle]) <= limit { low = middle + 1 } else { high = middle }
                        }
                        return low
                    }
                    let first = boundary(from: 0, past: -1)
                    var found = Array(sorted[first..<boundary(from: first, past: 0)])
                    for id in recent where term(id, hasPrefix: word, bytes) { found.append(id) }
                    return found
                }
            }
        }

        /// Whether term `id` starts with `word`, comparing bytes.
        private func term(_ id: Int32, hasPrefix word: UnsafeBufferPointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            Int(termLength[Int(id)]) >= word.count && memcmp(bytes.baseAddress! + Int(termStart[Int(id)]), word.baseAddress!, word.count) == 0
        }

        private func inverseDocumentFrequency(_ term: Int32) -> Float {
            let frequency = Float(frequencies[Int(term)])
            return logf(1 + (Float(live) - frequency + 0.5) / (frequency + 0.5))
        }

        /// The best `keep` hits, best first.
        ///
        /// Memory, not arithmetic, sets the pace: a posting's score lands at a random place in an array
        /// larger than the core's cache. So a word's postings are summed only for the rarest word; each
        /// other word is then checked against each candidate's own short list of terms through a bit
        /// per term (in cache), unless walking its postings costs fewer misses; and when a search
        /// touches much of the catalogue its scores are read front to back rather than by the list
        /// of those touched.
        func search(_ words: [[UInt8]], filter: Filter, keep: Int, scratch: Scratch) -> [Ranked] {
            guard !words.isEmpty, words.count <= 16, live > 0 else { return [] }
            var matched: [[Int32]] = []
            var sizes: [Int] = []
            let postingsPerTerm = max(1, postingCount / max(1, termStart.count))
            for word in words {
                let terms = terms(withPrefix: word)
                if terms.isEmpty { return [] }
                matched.append(terms)
                // Counting a broad prefix's postings would itself cost a miss a term: estimated instead.
                sizes.append(terms.count > 512 ? terms.count * postingsPerTerm : terms.reduce(0) { $0 + Int(frequencies[Int($1)]) })
            }
            let order = sizes.indices.sorted { sizes[$0] < sizes[$1] }
            scratch.prepare(documents: documents.count, terms: termStart.count)
            let all = UInt16(truncatingIfNeeded: (1 << words.count) - 1)

            // The rarest word's documents are the candidates.
            accumulate(matched[order[0]], bit: 1, requiring: 0, scratch: scratch, first: true)
            if words.count > 1 {
                // A candidate checked costs a cache miss or two (its own terms, somewhere in memory);
                // a posting walked, a small part of one (a prefix's lists lie together, read in order,
                // and the masks stay in cache), a term a few times that.
                let checkEach = sizes[order[0]] * 100 * (words.count - 1)
                let walkAll = order.dropFirst().reduce(0) { $0 + sizes[$1] + 5 * matched[$1].count }
                if checkEach < walkAll {
                    for (step, word) in order.enumerated().dropFirst() {
                        check(matched[word], bit: UInt16(1) << step, scratch: scratch)
                    }
                } else {
                    for (step, word) in order.enumerated().dropFirst() {
                        accumulate(matched[word], bit: UInt16(1) << step, requiring: UInt16((1 << step) - 1), scratch: scratch, first: false)
                    }
                }
            }
            return select(all: all, filter: filter, keep: keep, scratch: scratch)
        }

        /// Adds each posting of `terms` to its document's score and sets `bit` on it, for documents
        /// that have every bit of `requiring`; the first word's documents are noted as touched.
        private func accumulate(_ terms: [Int32], bit: UInt16, requiring: UInt16, scratch: Scratch, first: Bool) {
            scratch.scores.withUnsafeMutableBufferPointer { scores in
                scratch.masks.withUnsafeMutableBufferPointer { masks in
                    for term in terms {
                        let idf = inverseDocumentFrequency(term)
                        postings[Int(term)].withUnsafeBufferPointer { list in
                            for posting in list {
                                let at = Int(posting.document)
                                if first {
                                    if masks[at] == 0 { scratch.touched.append(posting.document) }
                                } else if masks[at] & requiring != requiring {
                                    continue
                                }
                                masks[at] |= bit
                                scores[at] += idf * posting.weight
                            }
                        }
                    }
                }
            }
        }

        /// Sets `bit` on each candidate that holds one of `terms`, adding their scores; the
        /// candidate's own terms are tested against a bit per term. Many candidates are taken in
        /// ordinal order (a sweep of the masks), so their terms are read front to back.
        private func check(_ terms: [Int32], bit: UInt16, scratch: Scratch) {
            let requiring = bit - 1
            scratch.termBits.withUnsafeMutableBufferPointer { bits in
                for term in terms { bits[Int(term) >> 6] |= 1 << (UInt64(term) & 63) }
                scratch.scores.withUnsafeMutableBufferPointer { scores in
                    scratch.masks.withUnsafeMutableBufferPointer { masks in
                        forwardTerms.withUnsafeBufferPointer { forward in
                            forwardStart.withUnsafeBufferPointer { starts in
                                forwardCount.withUnsafeBufferPointer { counts in
                                    func visit(_ at: Int) {
                                        guard masks[at] & requiring == requiring else { return }
                                        var added: Float = 0
                                        var found = false
                                        let start = Int(starts[at])
                                        for index in start..<start + Int(counts[at])
                                        where bits[Int(forward[index]) >> 6] & (1 << (UInt64(forward[index]) & 63)) != 0 {
                                            added += inverseDocumentFrequency(forward[index]) * forwardWeights[index]
                                            found = true
                                        }
                                        if found {
                                            masks[at] |= bit
                                            scores[at] += added
                                        }
                                    }
                                    if scratch.touched.count > documents.count / 32 {
                                        for at in 0..<documents.count where masks[at] != 0 { visit(at) }
                                    } else {
                                        for ordinal in scratch.touched { visit(Int(ordinal)) }
                                    }
                                }
                            }
                        }
                    }
                }
                for term in terms { bits[Int(term) >> 6] = 0 }
            }
        }

        /// The best `keep` of the candidates with every word's bit that pass `filter`, clearing the
        /// scratch behind it.
        private func select(all: UInt16, filter: Filter, keep: Int, scratch: Scratch) -> [Ranked] {
            var top = TopHits(keep: keep)
            let byFields = filter.category != nil || filter.tag != nil
            let wanted = filter.status.map(Self.code) ?? Self.removed
            let only = filter.seq.flatMap { ordinals[$0] } ?? -1
            if filter.seq != nil, only < 0 { scratch.clear(); return [] }
            let count = documents.count
            // Many touched: front to back, which the prefetcher follows; few: by the list.
            let sweep = scratch.touched.count > count / 8
            scratch.scores.withUnsafeMutableBufferPointer { scores in
                scratch.masks.withUnsafeMutableBufferPointer { masks in
                    statuses.withUnsafeBufferPointer { statuses in
                        func consider(_ at: Int) {
                            let status = statuses[at]
                            guard masks[at] == all, status != Self.removed, wanted == Self.removed || status == wanted,
                                  only < 0 || at == Int(only), !byFields || admits(at, filter)
                            else { return }
                            top.offer(Ranked(score: scores[at], ordinal: Int32(at)))
                        }
                        if sweep {
                            for at in 0..<count where masks[at] != 0 { consider(at) }
                            scores.update(repeating: 0)
                            masks.update(repeating: 0)
                        } else {
                            for ordinal in scratch.touched {
                                let at = Int(ordinal)
                                consider(at)
                                scores[at] = 0
                                masks[at] = 0
                            }
                        }
                    }
                }
            }
            scratch.touched.removeAll(keepingCapacity: true)
            return top.ranked()
        }

        /// Whether the document has the filter's category and tag.
        private func admits(_ ordinal: Int, _ filter: Filter) -> Bool {
            (filter.category.map { $0 == documents[ordinal].category } ?? true) && (filter.tag.map { documents[ordinal].tags.contains($0) } ?? true)
        }
    }

    /// The best `keep` hits offered, kept in a heap whose root is the worst of them.
    struct TopHits {
        let keep: Int
        private var heap: [Ranked] = []

        init(keep: Int) {
            self.keep = keep
        }

        mutating func offer(_ hit: Ranked) {
            if heap.count < keep {
                heap.append(hit)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard heap[parent].precedes(heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if let worst = heap.first, hit.precedes(worst) {
                heap[0] = hit
                var parent = 0
                while true {
                    let left = 2 * parent + 1, right = left + 1
                    var worse = parent
                    if left < heap.count, heap[worse].precedes(heap[left]) { worse = left }
                    if right < heap.count, heap[worse].precedes(heap[right]) { worse = right }
                    if worse == parent { break }
                    heap.swapAt(parent, worse)
                    parent = worse
                }
            }
        }

        func ranked() -> [Ranked] {
            heap.sorted { $0.precedes($1) }
        }
    }
}
