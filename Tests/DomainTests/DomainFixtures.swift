import Foundation
import ShopfloorDomain
import ShopfloorJSON
import ShopfloorSQLite
import ShopfloorStorage

/// A fresh database in a temporary directory, removed when the test ends.
final class TestDatabase: Sendable {
    let directory: String
    let database: Database
    let stores: Stores

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shopfloor-domain-\(UUID().uuidString)").path
        database = try Database(directory: directory, migrations: Migrations.all, readerCount: 2)
        stores = .sqlite(database)
    }

    deinit {
        database.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension NewProduct {
    static func make(title: String = "Blue Mug", description: String? = nil, tags: [String]? = nil, skus: [String] = ["MUG-1"],
                     amount: Int64 = 1299, threshold: Int? = nil) -> NewProduct {
        let variants = skus.map { sku in
            """
            {"sku":"\(sku)","price":{"amount":\(amount),"currency":"GBP"}\(threshold.map { ",\"low_stock_threshold\":\($0)" } ?? "")}
            """
        }.joined(separator: ",")
        var json = #"{"title":"\#(title)","variants":[\#(variants)]"#
        if let description { json += #","description":"\#(description)""# }
        if let tags { json += #","tags":[\#(tags.map { "\"\($0)\"" }.joined(separator: ","))]"# }
        json += "}"
        return try! JSONCoding.decode(NewProduct.self, from: Array(json.utf8))
    }
}
