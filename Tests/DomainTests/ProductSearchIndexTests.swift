@testable import ShopfloorDomain
import Testing

struct ProductSearchIndexTests {
    private static func document(_ seq: Int64, _ title: String, description: String? = nil, category: String? = nil, tags: [String] = [],
                                 status: Product.Status = .active, skus: [String] = []) -> ProductSearchDocument {
        ProductSearchDocument(seq: seq, id: "prod_\(seq)", title: title, description: description, category: category, tags: tags,
                              status: status, skus: skus)
    }

    private static func seqs(_ index: ProductSearchIndex, _ text: String, filter: ProductSearchIndex.Filter = .init(),
                             offset: Int = 0, limit: Int = 50) -> [Int64] {
        index.search(SearchText.terms(text), filter: filter, offset: offset, limit: limit).hits.map(\.seq)
    }

    @Test func textIsCutIntoFoldedTermsOfLettersAndDigits() {
        #expect(SearchText.terms("Linen SHIRT, size-XL (2024)") == ["linen", "shirt", "size", "xl", "2024"])
        #expect(SearchText.terms("Crème brûlée à la CAFÉ") == ["creme", "brulee", "a", "la", "cafe"])
        #expect(SearchText.terms("SF-000123-0") == ["sf", "000123", "0"])
        #expect(SearchText.terms("  \"*()^ -- ") == [])
        #expect(SearchText.terms(String(repeating: "a", count: 300)) == [String(repeating: "a", count: SearchText.maxTermLength)])
        #expect(SearchText.terms("日本 茶") == ["日本", "茶"])
    }

    @Test func everyWordMatchesAsAPrefixAndAllAreRequired() {
        let index = ProductSearchIndex()
        index.apply([.put(Self.document(1, "Linen shirt")), .put(Self.document(2, "Linen trousers")), .put(Self.document(3, "Silk shirt"))])
        #expect(Self.seqs(index, "lin sh") == [1])
        #expect(Self.seqs(index, "LIN") == [1, 2])
        #expect(Self.seqs(index, "shirt linen") == [1])
        #expect(Self.seqs(index, "linens") == [])
        #expect(Self.seqs(index, "lin wool") == [])
        #expect(Self.seqs(index, "café") == [])
        #expect(Set(Self.seqs(index, "s")) == [1, 3])
    }

    @Test func titleOutranksTagsOutranksDescriptionAndTiesGoToTheOlder() {
        let index = ProductSearchIndex()
        index.apply([
            .put(Self.document(1, "Plate", description: "goes with the teapot")),
            .put(Self.document(2, "Jug", tags: ["teapot"])),
            .put(Self.document(3, "Teapot")),
            .put(Self.document(4, "Teapot")),
            .put(Self.document(5, "Cup", skus: ["TEAPOT-RED"])),
        ])
        #expect(Self.seqs(index, "teap") == [3, 4, 5, 2, 1])
    }

    @Test func bothWaysOfMatchingSeveralWordsAgree() {
        // "common" is in every product, so a rare word drives the search (candidates checked
        // through their own terms); two common words are walked through their postings.
        let index = ProductSearchIndex()
        var documents: [ProductSearchIndex.Change] = []
        for seq in 1...400 {
            let rare = seq % 100 == 0 ? " rarity\(seq)" : ""
            documents.append(.put(Self.document(Int64(seq), "common thing\(seq % 7)\(rare)", description: seq % 2 == 0 ? "even" : "odd")))
        }
        index.apply(documents)
        #expect(Self.seqs(index, "rarity com") == [100, 200, 300, 400])
        #expect(Self.seqs(index, "rarity300 comm") == [300])
        #expect(Self.seqs(index, "rar even") == [100, 200, 300, 400])
        #expect(Self.seqs(index, "rarity odd") == [])
        #expect(Self.seqs(index, "common thing3", limit: 200) == (1...400).filter { $0 % 7 == 3 }.map(Int64.init))
        #expect(Self.seqs(index, "common odd", limit: 400) == (1...400).filter { $0 % 2 == 1 }.map(Int64.init))
        #expect(Self.seqs(index, "com odd thing3", limit: 200) == (1...400).filter { $0 % 7 == 3 && $0 % 2 == 1 }.map(Int64.init))
    }

    @Test func filtersNarrowTheHits() {
        let index = ProductSearchIndex()
        index.apply([
            .put(Self.document(1, "Mug", category: "kitchen", tags: ["blue"])),
            .put(Self.document(2, "Mug", category: "kitchen", tags: ["red"], status: .draft)),
            .put(Self.document(3, "Mug", category: "garden", tags: ["red"])),
        ])
        #expect(Self.seqs(index, "mug", filter: .init(status: .active)) == [1, 3])
        #expect(Self.seqs(index, "mug", filter: .init(category: "kitchen")) == [1, 2])
        #expect(Self.seqs(index, "mug", filter: .init(status: .active, tag: "red")) == [3])
        #expect(Self.seqs(index, "mug", filter: .init(seq: 2)) == [2])
        #expect(Self.seqs(index, "mug", filter: .init(category: "Kitchen")) == [])
    }

    @Test func pagesCoverEveryHitOnceInRankOrder() {
        let index = ProductSearchIndex()
        index.apply((1...120).map { .put(Self.document(Int64($0), $0 % 3 == 0 ? "Lamp lamp" : "Lamp shade \($0)")) })
        var seen: [Int64] = []
        var offset = 0
        while true {
            let page = index.search(["lamp"], filter: .init(), offset: offset, limit: 50)
            seen += page.hits.map(\.seq)
            guard page.more else { break }
            offset += 50
        }
        #expect(seen.count == 120 && Set(seen).count == 120)
        #expect(Array(seen.prefix(40)) == (1...120).filter { $0 % 3 == 0 }.map(Int64.init))
    }

    @Test func changesReplaceAndRemoveAndMoveTheVersion() {
        let index = ProductSearchIndex()
        index.apply([.put(Self.document(1, "Teapot")), .put(Self.document(2, "Kettle"))])
        let version = index.version
        index.apply([.put(Self.document(1, "Kettle large"))])
        #expect(index.version > version)
        #expect(Self.seqs(index, "teapot") == [])
        #expect(Self.seqs(index, "kett") == [2, 1])
        #expect(Self.seqs(index, "large") == [1])
        index.apply([.remove(seq: 2)])
        #expect(Self.seqs(index, "kett") == [1])
        #expect(index.count == 1)
        index.compact()
        #expect(Self.seqs(index, "kett") == [1])
        #expect(Self.seqs(index, "kettle lar") == [1])
        index.apply([.remove(seq: 2), .put(Self.document(2, "Kettle"))])
        #expect(Self.seqs(index, "kett") == [2, 1])
        #expect(index.count == 2)
    }

    @Test func manyNewTermsStaySearchableAcrossMerges() {
        // More new terms than the recent list holds, added out of order: each is found by its prefix.
        let index = ProductSearchIndex()
        let words = (0..<1000).map { "w\(String(($0 * 7919) % 1000, radix: 36))x\($0)" }
        index.apply(words.enumerated().map { .put(Self.document(Int64($0.offset + 1), $0.element)) })
        for (offset, word) in words.enumerated() where offset % 37 == 0 {
            #expect(Self.seqs(index, word) == [Int64(offset + 1)])
        }
        #expect(Self.seqs(index, "w", limit: 2000).count == 1000)
    }

    @Test func compactionForgetsRemovedProductsAndTheirTermsAndKeepsTheRest() {
        let index = ProductSearchIndex()
        index.apply((1...10_000).map { .put(Self.document(Int64($0), "Lamp w\($0)x", skus: ["L-\($0)"])) })
        #expect(index.termCount > 20_000)
        // Removing most of them crosses the threshold: the index is rebuilt without them.
        index.apply((1...9_000).map { .remove(seq: Int64($0)) })
        #expect(index.count == 1_000)
        #expect(index.termCount < 3_000)
        #expect(Self.seqs(index, "w9500x") == [9_500])
        #expect(Self.seqs(index, "w500x") == [])
        #expect(Self.seqs(index, "lamp", limit: 2_000) == (9_001...10_000).map(Int64.init))
        // Changes after it still land where they should.
        index.apply([.put(Self.document(9_500, "Shade")), .remove(seq: 9_999), .put(Self.document(20_000, "Lamp new"))])
        #expect(Self.seqs(index, "w9500x") == [])
        #expect(Self.seqs(index, "shade") == [9_500])
        #expect(Self.seqs(index, "lamp n") == [20_000])
        #expect(Self.seqs(index, "lamp", limit: 2_000).count == 999)
    }
}
