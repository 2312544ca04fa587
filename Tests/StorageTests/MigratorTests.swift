import Foundation
import ShopfloorStorage
import Testing

private func open(_ directory: String) throws -> SQLiteConnection {
    try SQLiteConnection(path: directory + "/migrations.sqlite", readOnly: false)
}

private let first = Migration(version: 1, name: "create_items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
private let second = Migration(version: 2, name: "add_price", sql: "ALTER TABLE items ADD COLUMN price INTEGER NOT NULL DEFAULT 0")
private let third = Migration(version: 5, name: "seed", sql: "INSERT INTO items (name, price) VALUES ('first', 100)")

private func recorded(_ connection: SQLiteConnection) throws -> [(version: Int, name: String)] {
    try connection.query("SELECT version, name FROM schema_migrations ORDER BY version").map { row in
        (row["version"]?.int ?? -1, row["name"]?.string ?? "")
    }
}

@Suite struct MigratorTests {
    @Test func appliesEveryMigrationInOrderOnce() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            let applied = try Migrator.migrate(connection, migrations: [first, second, third])
            #expect(applied == [1, 2, 5])
            let rows = try recorded(connection)
            #expect(rows.map(\.version) == [1, 2, 5])
            #expect(rows.map(\.name) == ["create_items", "add_price", "seed"])
            // The seed ran after the column it uses was added.
            let items = try connection.query("SELECT name, price FROM items")
            #expect(items == [["name": "first", "price": 100]])
            let appliedAt = try connection.query("SELECT applied_at FROM schema_migrations WHERE version = 1").first?["applied_at"]?.string
            #expect(appliedAt?.hasSuffix("Z") == true)
        }
    }

    @Test func rerunningAppliesNothing() async throws {
        try await withTemporaryDirectory { directory in
            try Migrator.migrate(open(directory), migrations: [first, second, third])
            // A fresh connection to the same file, as after a restart.
            let connection = try open(directory)
            #expect(try Migrator.migrate(connection, migrations: [first, second, third]) == [])
            #expect(try connection.query("SELECT COUNT(*) AS n FROM items").first?["n"] == 1)
            #expect(try recorded(connection).map(\.version) == [1, 2, 5])
        }
    }

    @Test func onlyNewMigrationsAreApplied() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            #expect(try Migrator.migrate(connection, migrations: [first]) == [1])
            #expect(try Migrator.migrate(connection, migrations: [first, second]) == [2])
            #expect(try recorded(connection).map(\.version) == [1, 2])
        }
    }

    @Test func databaseNewerThanTheCodeIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            try Migrator.migrate(connection, migrations: [first, second])
            let error = try #require(throws: Migrator.Failure.self) {
                try Migrator.migrate(connection, migrations: [first])
            }
            guard case .databaseIsNewer(let applied, let known) = error else {
                Issue.record("expected databaseIsNewer, got \(error)")
                return
            }
            #expect(applied == 2)
            #expect(known == 1)
            #expect(error.description == "database schema is at version 2, this build knows up to 1")
            // Nothing was touched.
            #expect(try recorded(connection).map(\.version) == [1, 2])
        }
    }

    @Test(arguments: [
        ([2, 1], 1),
        ([1, 1], 1),
        ([0], 0),
        ([1, 3, 2], 2),
    ])
    func unorderedMigrationsAreRefusedBeforeAnyIsApplied(_ versions: [Int], _ offending: Int) async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            let migrations = versions.map { Migration(version: $0, name: "m\($0)", sql: "CREATE TABLE t\($0) (x)") }
            let error = try #require(throws: Migrator.Failure.self) {
                try Migrator.migrate(connection, migrations: migrations)
            }
            guard case .unordered(let version) = error else {
                Issue.record("expected unordered, got \(error)")
                return
            }
            #expect(version == offending)
            let tables = try connection.query("SELECT name FROM sqlite_master WHERE type = 'table'")
            #expect(tables.isEmpty)
        }
    }

    @Test func failingMigrationIsRolledBackWhole() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE half (x); INSERT INTO missing VALUES (1)")
            let error = try #require(throws: SQLiteError.self) {
                try Migrator.migrate(connection, migrations: [first, broken])
            }
            #expect(error.primaryCode == 1)  // SQLITE_ERROR: no such table
            #expect(error.message.contains("missing"))
            #expect(try recorded(connection).map(\.version) == [1])
            let half = try connection.query("SELECT name FROM sqlite_master WHERE name = 'half'")
            #expect(half.isEmpty)
            #expect(!connection.inTransaction)
            // Fixed forward, it applies.
            let fixed = Migration(version: 2, name: "fixed", sql: "CREATE TABLE half (x)")
            #expect(try Migrator.migrate(connection, migrations: [first, fixed]) == [2])
        }
    }

    /// A database at version 4 keeps its reservations through the upgrade, and every cart write stops
    /// paying for the index by SKU that no query read.
    @Test func upgradeDropsTheUnreadReservationIndexAndKeepsTheRows() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            try connection.execute("PRAGMA foreign_keys = OFF")
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(4))) == [1, 2, 3, 4])
            try connection.run("INSERT INTO reservations (cart_id, sku, location_id, quantity) VALUES ('cart_1', 'MUG-1', 'loc_1', 2)")
            let indexes = { try connection.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reservations' AND sql IS NOT NULL") }
            #expect(try indexes() == [["name": "reservations_sku"]])
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(5))) == [5])
            #expect(try indexes().isEmpty)
            #expect(try connection.query("SELECT cart_id, quantity FROM reservations") == [["cart_id": "cart_1", "quantity": 2]])
        }
    }

    @Test func upgradeKeysCartLinesByCartAndKeepsTheRows() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            try connection.execute("PRAGMA foreign_keys = OFF")
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(5))) == [1, 2, 3, 4, 5])
            try connection.run(
                "INSERT INTO cart_lines (id, cart_id, position, sku, quantity, customisation) VALUES ('line_b', 'cart_1', 1, 'MUG-1', 2, '{\"text\":\"Jo\"}')")
            try connection.run("INSERT INTO cart_lines (id, cart_id, position, sku, quantity) VALUES ('line_a', 'cart_1', 0, 'TEE-1', 1)")
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(6))) == [6])
            // One B-tree: the table without a rowid, and no index beside it.
            let table = try connection.query("SELECT sql FROM sqlite_master WHERE name = 'cart_lines'").first?["sql"]?.string ?? ""
            #expect(table.contains("WITHOUT ROWID"))
            #expect(try connection.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cart_lines'").isEmpty)
            #expect(try connection.query("SELECT id, sku, quantity, customisation FROM cart_lines WHERE cart_id = 'cart_1' ORDER BY position") == [
                ["id": "line_a", "sku": "TEE-1", "quantity": 1, "customisation": .null],
                ["id": "line_b", "sku": "MUG-1", "quantity": 2, "customisation": "{\"text\":\"Jo\"}"],
            ])
            // Still one line per SKU in a cart.
            #expect(throws: SQLiteError.self) {
                try connection.run("INSERT INTO cart_lines (id, cart_id, position, sku, quantity) VALUES ('line_c', 'cart_1', 2, 'TEE-1', 1)")
            }
        }
    }

    @Test func upgradeLeavesCartTopicsOutOfTheTopicIndex() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(6))) == [1, 2, 3, 4, 5, 6])
            for topic in ["cart:cart_1", "stock:MUG-1", "cart:cart_1", "order:ord_1"] {
                try connection.run("INSERT INTO events (type, topic, at, data) VALUES ('x', ?, '2026-12-02T00:00:00Z', '{}')", [.text(topic)])
            }
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(7))) == [7])
            #expect(try connection.query("SELECT COUNT(*) AS n FROM events").first?["n"] == 4)
            let indexed = try connection.query("SELECT topic FROM events INDEXED BY events_topic WHERE topic NOT GLOB 'cart:*' AND topic > '' ORDER BY topic")
            #expect(indexed == [["topic": "order:ord_1"], ["topic": "stock:MUG-1"]])
            let plan = try connection.query(
                "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE seq > 0 AND (topic = 'stock:MUG-1') AND topic NOT GLOB 'cart:*' ORDER BY seq")
            #expect(plan.contains { ($0["detail"]?.string ?? "").contains("events_topic") })
        }
    }

    /// A SKU's level lists locations by `created_at, code`; after migration 8 the index gives that
    /// order, so the read the writer makes for every stock change sorts nothing.
    @Test func stockLevelReadUsesTheLocationOrderIndex() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try open(directory)
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(7))) == [1, 2, 3, 4, 5, 6, 7])
            let query = """
                EXPLAIN QUERY PLAN SELECT l.code, l.fulfils_online, s.on_hand, s.reserved, v.low_stock_threshold
                FROM variants v CROSS JOIN locations l LEFT JOIN stock_levels s ON s.location_id = l.id AND s.sku = v.sku
                WHERE v.sku = 'MUG-1' ORDER BY l.created_at, l.code
                """
            func plan() throws -> [String] { try connection.query(query).compactMap { $0["detail"]?.string } }
            #expect(try plan().contains { $0.contains("TEMP B-TREE") })
            #expect(try Migrator.migrate(connection, migrations: Array(Migrations.all.prefix(8))) == [8])
            #expect(try !plan().contains { $0.contains("TEMP B-TREE") })
            #expect(try plan().contains { $0.contains("locations_listing") })
        }
    }
}
