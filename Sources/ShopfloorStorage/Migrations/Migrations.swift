/// The schema, in order. Each feature appends its migrations here; released ones never change.
public enum Migrations {
    public static let all: [Migration] = [catalogue, carts]

    /// Keys, locations, products and variants with full-text search, stock levels and their
    /// movements, and the event log.
    static let catalogue = Migration(version: 1, name: "catalogue", sql: """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'pos', 'storefront')),
            location_id TEXT REFERENCES locations(id),
            secret_hash BLOB NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );

        CREATE TABLE locations (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('store', 'warehouse')),
            fulfils_online INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        INSERT INTO locations (id, code, name, kind, fulfils_online, created_at)
        VALUES ('loc_main', 'main', 'Main store', 'store', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

        CREATE TABLE products (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            description TEXT,
            category TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            images TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL CHECK (status IN ('active', 'draft', 'archived')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX products_category ON products(category, seq);
        CREATE INDEX products_status ON products(status, seq);

        CREATE TABLE variants (
            id TEXT PRIMARY KEY,
            product_seq INTEGER NOT NULL REFERENCES products(seq) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sku TEXT NOT NULL UNIQUE,
            title TEXT,
            price_amount INTEGER NOT NULL,
            price_currency TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}',
            barcode TEXT UNIQUE,
            low_stock_threshold INTEGER
        );
        CREATE INDEX variants_product ON variants(product_seq, position);

        CREATE VIRTUAL TABLE product_search USING fts5(
            title, description, tags, skus,
            tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
        );

        CREATE TABLE stock_levels (
            sku TEXT NOT NULL,
            location_id TEXT NOT NULL REFERENCES locations(id),
            on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
            reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
            PRIMARY KEY (sku, location_id)
        ) WITHOUT ROWID;

        CREATE TABLE stock_movements (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL,
            location_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            delta INTEGER NOT NULL,
            on_hand_before INTEGER NOT NULL,
            on_hand_after INTEGER NOT NULL,
            actor TEXT NOT NULL,
            note TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX stock_movements_sku ON stock_movements(sku, id);

        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            topic TEXT NOT NULL,
            at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX events_topic ON events(topic, seq);
        CREATE INDEX events_at ON events(at);

        CREATE TABLE idempotency_keys (
            key TEXT NOT NULL,
            scope TEXT NOT NULL,
            status INTEGER NOT NULL,
            body BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        ) WITHOUT ROWID;
        """)

    /// Carts, their lines, and where each line's units are reserved.
    static let carts = Migration(version: 2, name: "carts", sql: """
        CREATE TABLE carts (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL CHECK (channel IN ('online', 'pos')),
            location_id TEXT REFERENCES locations(id),
            customer_id TEXT,
            email TEXT,
            currency TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'completed', 'deleted')),
            checkout_step TEXT NOT NULL DEFAULT 'cart',
            expires_at TEXT NOT NULL,
            expires_at_ms INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX carts_status_expiry ON carts(status, expires_at_ms);
        CREATE INDEX carts_status_updated ON carts(status, updated_at);

        CREATE TABLE cart_lines (
            id TEXT PRIMARY KEY,
            cart_id TEXT NOT NULL REFERENCES carts(id),
            position INTEGER NOT NULL,
            sku TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            customisation TEXT,
            UNIQUE (cart_id, sku)
        );

        CREATE TABLE reservations (
            cart_id TEXT NOT NULL REFERENCES carts(id),
            sku TEXT NOT NULL,
            location_id TEXT NOT NULL REFERENCES locations(id),
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (cart_id, sku, location_id)
        ) WITHOUT ROWID;
        CREATE INDEX reservations_sku ON reservations(sku);
        """)
}
