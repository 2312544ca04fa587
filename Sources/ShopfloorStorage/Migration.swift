/// One step of the schema, applied once, in order, inside a transaction. Append-only: a released
/// migration never changes; fix forward with a new one.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies pending migrations and records each in `schema_migrations`.
public enum Migrator {
    /// Why a database cannot be brought to the expected schema.
    public enum Failure: Error, CustomStringConvertible {
        /// The file was written by a newer Shopfloor: refusing to run old code against it.
        case databaseIsNewer(applied: Int, known: Int)
        /// Migration versions must strictly increase.
        case unordered(version: Int)

        public var description: String {
            switch self {
            case .databaseIsNewer(let applied, let known): "database schema is at version \(applied), this build knows up to \(known)"
            case .unordered(let version): "migration \(version) is out of order"
            }
        }
    }

    /// Brings `connection` up to date; returns the versions it applied.
    @discardableResult
    public static func migrate(_ connection: SQLiteConnection, migrations: [Migration]) throws -> [Int] {
        var previous = 0
        for migration in migrations {
            guard migration.version > previous else { throw Failure.unordered(version: migration.version) }
            previous = migration.version
        }
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
            )
            """)
        let current = try connection.query("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
            .first?["version"]?.int ?? 0
        guard current <= previous else { throw Failure.databaseIsNewer(applied: current, known: previous) }
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                try connection.execute(migration.sql)
                try connection.run("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [.integer(Int64(migration.version)), .text(migration.name)])
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
            applied.append(migration.version)
        }
        return applied
    }
}
